"""The rate plans posfleet ships, shared by the data migration and the post-migrate check."""

PLANS = [
    {
        "code": "STANDARD",
        "name": "标准费率 Standard",
        "credit_bp": 60,
        "debit_bp": 50,
        "debit_cap_fen": 2500,
        "wechat_bp": 38,
        "alipay_bp": 38,
        "unionpay_qr_bp": 60,
    },
    {
        "code": "CLASSIC",
        "name": "经典费率 Classic",
        "credit_bp": 60,
        "debit_bp": 55,
        "debit_cap_fen": 2000,
        "wechat_bp": 48,
        "alipay_bp": 48,
        "unionpay_qr_bp": 60,
    },
]
