"""Required materials: one rule of the case's kind and the merchant's kind, for every kind of case."""

import pytest

from posfleet.cases.choices import REQUIRED_MATERIALS, CaseKind, MaterialType, required_materials
from posfleet.registry.choices import MerchantKind

M = MaterialType


class TestRequiredMaterials:
    def test_an_individual_applies_with_id_card_and_settlement_card(self):
        assert required_materials(CaseKind.APPLICATION, MerchantKind.INDIVIDUAL) == (
            M.ID_CARD_FRONT,
            M.ID_CARD_BACK,
            M.SETTLEMENT_CARD,
        )

    def test_an_enterprise_applies_with_licence_account_representative_card_and_shop_photos(self):
        assert required_materials(CaseKind.APPLICATION, MerchantKind.ENTERPRISE) == (
            M.BUSINESS_LICENCE_COPY,
            M.CORPORATE_ACCOUNT_PROOF,
            M.LEGAL_REP_ID_FRONT,
            M.LEGAL_REP_ID_BACK,
            M.SETTLEMENT_CARD,
            M.SHOP_PHOTO_STOREFRONT,
            M.SHOP_PHOTO_INTERIOR,
            M.SHOP_PHOTO_CASHIER,
        )

    def test_a_sole_proprietor_applies_like_a_business_without_a_corporate_account(self):
        assert required_materials(CaseKind.APPLICATION, MerchantKind.SOLE_PROPRIETOR) == (
            M.BUSINESS_LICENCE_COPY,
            M.LEGAL_REP_ID_FRONT,
            M.LEGAL_REP_ID_BACK,
            M.SETTLEMENT_CARD,
            M.SHOP_PHOTO_STOREFRONT,
            M.SHOP_PHOTO_INTERIOR,
            M.SHOP_PHOTO_CASHIER,
        )

    def test_an_individual_suspends_without_a_business_licence(self):
        assert required_materials(CaseKind.SUSPENSION, MerchantKind.INDIVIDUAL) == (
            M.APPLICATION_FORM,
            M.PROOF_OF_IDENTITY,
        )
        assert M.BUSINESS_LICENCE_COPY in required_materials(CaseKind.SUSPENSION, MerchantKind.ENTERPRISE)

    @pytest.mark.parametrize("kind", CaseKind.values)
    def test_no_kind_of_case_asks_what_the_merchant_cannot_have(self, kind):
        individual = set(required_materials(kind, MerchantKind.INDIVIDUAL))
        sole = set(required_materials(kind, MerchantKind.SOLE_PROPRIETOR))
        assert not individual & {
            M.BUSINESS_LICENCE_COPY,
            M.CORPORATE_ACCOUNT_PROOF,
            M.LEGAL_REP_ID_FRONT,
            M.SHOP_PHOTO_STOREFRONT,
        }
        assert M.CORPORATE_ACCOUNT_PROOF not in sole
        assert set(required_materials(kind, MerchantKind.ENTERPRISE)) <= set(REQUIRED_MATERIALS[kind])

    def test_every_kind_of_case_has_its_materials(self):
        assert set(REQUIRED_MATERIALS) == set(CaseKind.values)
