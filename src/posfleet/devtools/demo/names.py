"""Chinese names, addresses, phones and card numbers for the demo, drawn from a seeded generator.

Everything here is made up: the people, the shops and the cards do not exist. Card numbers use real
Chinese debit-card prefixes (BINs) and a correct Luhn check digit so the registry's validation accepts
them; phone numbers use mobile prefixes and e-mail addresses use the reserved example.cn domain.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢"
)
GIVEN = (
    "伟",
    "芳",
    "娜",
    "秀英",
    "敏",
    "静",
    "丽",
    "强",
    "磊",
    "军",
    "洋",
    "勇",
    "艳",
    "杰",
    "娟",
    "涛",
    "明",
    "超",
    "秀兰",
    "霞",
    "平",
    "刚",
    "桂英",
    "建华",
    "志强",
    "晓东",
    "海燕",
    "文博",
    "子涵",
    "雨桐",
    "浩然",
    "欣怡",
    "俊杰",
    "佳怡",
    "宇航",
    "思远",
    "梦琪",
    "国庆",
    "春梅",
    "立新",
)

# (province, city, districts)
PLACES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("上海市", "", ("黄浦区", "徐汇区", "静安区", "浦东新区", "杨浦区")),
    ("北京市", "", ("朝阳区", "海淀区", "东城区", "西城区", "丰台区")),
    ("广东省", "广州市", ("天河区", "越秀区", "海珠区", "番禺区")),
    ("广东省", "深圳市", ("南山区", "福田区", "罗湖区", "宝安区")),
    ("浙江省", "杭州市", ("西湖区", "上城区", "拱墅区", "滨江区")),
    ("江苏省", "南京市", ("玄武区", "鼓楼区", "秦淮区", "建邺区")),
    ("江苏省", "苏州市", ("姑苏区", "工业园区", "吴中区")),
    ("四川省", "成都市", ("锦江区", "武侯区", "青羊区", "高新区")),
    ("湖北省", "武汉市", ("江汉区", "武昌区", "洪山区")),
    ("陕西省", "西安市", ("雁塔区", "碑林区", "新城区")),
)
ROADS = (
    "人民路",
    "解放路",
    "中山路",
    "建设路",
    "和平路",
    "文化路",
    "南京路",
    "长江路",
    "青年路",
    "新华路",
    "淮海路",
    "延安路",
    "学府路",
    "滨江大道",
    "科技园路",
    "东风路",
    "胜利街",
    "幸福里",
    "光明街",
    "朝阳路",
)
TRADES_SMALL = (
    "面馆",
    "水果店",
    "便利店",
    "早餐店",
    "理发店",
    "花店",
    "烧烤",
    "小吃店",
    "干洗店",
    "茶叶店",
    "五金店",
    "药店",
    "文具店",
    "饺子馆",
    "奶茶店",
    "修车铺",
)
TRADE_NAMES = (
    "华联",
    "永辉",
    "鑫源",
    "恒泰",
    "福满",
    "金桥",
    "天和",
    "佳乐",
    "瑞丰",
    "宏达",
    "长青",
    "锦程",
    "博雅",
    "安信",
    "顺发",
    "嘉禾",
    "新世纪",
    "万家",
    "百汇",
    "乐购",
)
TRADES_BIG = ("超市", "餐饮管理", "商贸", "百货", "酒店管理", "医药连锁", "服饰", "电器", "书店", "文化传媒")
STALLS = ("水果摊", "早点摊", "报刊亭", "烤红薯", "煎饼摊", "修鞋摊", "菜摊", "小卖部")
CARD_BINS = ("622202", "621700", "622848", "621661", "622588", "621483", "622262", "623058")
PHONE_PREFIXES = ("138", "139", "137", "136", "150", "151", "158", "159", "186", "187", "188", "177", "199")


def luhn_digit(body: str) -> str:
    """The check digit that makes `body + digit` pass the Luhn test."""
    total = 0
    for i, ch in enumerate(reversed(body)):
        n = int(ch)
        if i % 2 == 0:  # these positions are doubled once the check digit is appended
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return str((10 - total % 10) % 10)


def luhn_ok(digits: str) -> bool:
    return luhn_digit(digits[:-1]) == digits[-1]


@dataclass(frozen=True)
class Place:
    province: str
    city: str
    district: str

    @property
    def short(self) -> str:
        return (self.city or self.province).removesuffix("市")


class Names:
    """A seeded source of people, places and numbers; the same seed gives the same demo."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self._used_names: set[str] = set()

    def person(self) -> str:
        return self.rng.choice(SURNAMES) + self.rng.choice(GIVEN)

    def place(self) -> Place:
        province, city, districts = self.rng.choice(PLACES)
        return Place(province, city, self.rng.choice(districts))

    def address(self, place: Place | None = None) -> str:
        p = place or self.place()
        number = self.rng.randint(1, 1999)
        tail = self.rng.choice(
            ("", "", f"{self.rng.randint(1, 30)}层", f"{self.rng.randint(101, 2505)}室", "一楼商铺")
        )
        return f"{p.province}{p.city}{p.district}{self.rng.choice(ROADS)}{number}号{tail}"

    def phone(self) -> str:
        return self.rng.choice(PHONE_PREFIXES) + f"{self.rng.randint(0, 99_999_999):08d}"

    def card(self) -> str:
        body = self.rng.choice(CARD_BINS) + "".join(str(self.rng.randint(0, 9)) for _ in range(12))
        return body + luhn_digit(body)

    def licence_no(self) -> str:
        """An 18-character unified social credit code in shape (not a registered one)."""
        alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
        head = self.rng.choice(("91", "92", "93"))
        region = f"{self.rng.choice((31, 11, 44, 33, 32, 51, 42, 61))}{self.rng.randint(0, 9999):04d}"
        return head + region + "".join(self.rng.choice(alphabet) for _ in range(10))

    def _unique(self, make: object) -> str:
        for _ in range(100):
            name = make()  # type: ignore[operator]
            if name not in self._used_names:
                self._used_names.add(name)
                return str(name)
        raise RuntimeError("ran out of demo names")

    def merchant_name(self, kind: str, place: Place, owner: str) -> str:
        if kind == "individual":
            return self._unique(lambda: f"{owner}{self.rng.choice(STALLS)}")
        if kind == "sole_proprietor":
            return self._unique(
                lambda: f"{place.short}{place.district}{owner[0]}记{self.rng.choice(TRADES_SMALL)}"
            )
        return self._unique(
            lambda: f"{place.short}{self.rng.choice(TRADE_NAMES)}{self.rng.choice(TRADES_BIG)}有限公司"
        )
