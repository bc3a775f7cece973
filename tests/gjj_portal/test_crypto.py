"""Field encryption, blind index, MAC and masking (SEC-37, SEC-38, appendix §1.4)."""

import base64
import re
import uuid

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from django.db import models
from django.test.utils import isolate_apps

from gjj_portal import crypto
from gjj_portal.crypto import (
    DecryptionError,
    EncryptedAttribute,
    blind_index,
    decrypt,
    decrypt_blob,
    derive_key,
    encrypt,
    encrypt_blob,
    mac,
    mask_id,
    mask_phone,
    needs_rotation,
)

ID_NUMBER = "11010519491231002X"
KEY_K0 = base64.b64encode(bytes(range(32))).decode()
KEY_K1 = base64.urlsafe_b64encode(bytes(range(200, 240))).decode()


@pytest.fixture(autouse=True)
def keys(settings):
    settings.GJJ_MASTER_KEYS = {"k1": KEY_K1}
    settings.GJJ_ACTIVE_KEY_ID = "k1"
    settings.GJJ_CRYPTO_SUITE = "sm4-gcm"
    return settings


def _flip_payload_byte(token: str, index: int) -> str:
    prefix, payload = token.rsplit(":", 1)
    raw = bytearray(base64.urlsafe_b64decode(payload))
    raw[index] ^= 0x01
    return f"{prefix}:{base64.urlsafe_b64encode(bytes(raw)).decode()}"


def test_sm3_matches_the_gbt_32905_abc_vector():
    digest = hashes.Hash(hashes.SM3())
    digest.update(b"abc")
    assert digest.finalize().hex() == "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"


def test_sm4_matches_the_gbt_32907_vector():
    key = bytes.fromhex("0123456789abcdeffedcba9876543210")
    encryptor = Cipher(algorithms.SM4(key), modes.ECB()).encryptor()
    assert (encryptor.update(key) + encryptor.finalize()).hex() == "681edf34d206965e86b3e94f536e4246"


def test_encrypt_then_decrypt_returns_the_plaintext():
    token = encrypt(ID_NUMBER, aad="members.member.id_number:row-a")
    assert decrypt(token, aad="members.member.id_number:row-a") == ID_NUMBER


def test_token_starts_with_version_and_key_id_and_hides_the_plaintext():
    token = encrypt(ID_NUMBER, aad="row-a")
    assert token.startswith("v1:k1:sm4:")
    assert ID_NUMBER not in token
    assert not re.search(r"\d{17}[\dXx]", token)


def test_same_plaintext_encrypts_to_different_tokens():
    assert encrypt(ID_NUMBER, aad="row-a") != encrypt(ID_NUMBER, aad="row-a")


@pytest.mark.parametrize("index", [0, 12, -1])
def test_flipped_byte_in_nonce_ciphertext_or_tag_raises_decryption_error(index):
    token = encrypt(ID_NUMBER, aad="row-a")
    with pytest.raises(DecryptionError):
        decrypt(_flip_payload_byte(token, index), aad="row-a")


def test_ciphertext_copied_to_another_row_fails_to_decrypt():
    """SEC-37：把 A 行的密文复制到 B 行，AAD 不同，解密失败。"""
    row_a, row_b = uuid.uuid4(), uuid.uuid4()
    token = encrypt(ID_NUMBER, aad=f"members.member.id_number:{row_a}")
    with pytest.raises(DecryptionError):
        decrypt(token, aad=f"members.member.id_number:{row_b}")


@pytest.mark.parametrize("token", ["", "plain", "v1:k1:sm4:!!!", "v2:k1:sm4:AAAA", "v1:k1:sm4:AAAA"])
def test_malformed_token_raises_decryption_error(token):
    with pytest.raises(DecryptionError):
        decrypt(token, aad="row-a")


def test_token_made_with_old_key_still_decrypts_after_rotation(settings):
    settings.GJJ_MASTER_KEYS = {"k0": KEY_K0}
    settings.GJJ_ACTIVE_KEY_ID = "k0"
    old_token = encrypt(ID_NUMBER, aad="row-a")
    assert needs_rotation(old_token) is False

    settings.GJJ_MASTER_KEYS = {"k0": KEY_K0, "k1": KEY_K1}
    settings.GJJ_ACTIVE_KEY_ID = "k1"
    assert old_token.startswith("v1:k0:")
    assert decrypt(old_token, aad="row-a") == ID_NUMBER
    assert needs_rotation(old_token) is True


def test_reencrypt_moves_a_token_to_the_active_key(settings):
    settings.GJJ_MASTER_KEYS = {"k0": KEY_K0, "k1": KEY_K1}
    settings.GJJ_ACTIVE_KEY_ID = "k0"
    old_token = encrypt(ID_NUMBER, aad="row-a")
    settings.GJJ_ACTIVE_KEY_ID = "k1"
    new_token = crypto.reencrypt(old_token, aad="row-a")
    assert new_token.startswith("v1:k1:")
    assert not needs_rotation(new_token)
    assert decrypt(new_token, aad="row-a") == ID_NUMBER


def test_token_whose_key_was_removed_raises_decryption_error(settings):
    settings.GJJ_MASTER_KEYS = {"k0": KEY_K0}
    settings.GJJ_ACTIVE_KEY_ID = "k0"
    token = encrypt(ID_NUMBER, aad="row-a")
    settings.GJJ_MASTER_KEYS = {"k1": KEY_K1}
    settings.GJJ_ACTIVE_KEY_ID = "k1"
    with pytest.raises(DecryptionError):
        decrypt(token, aad="row-a")


def test_aes_256_gcm_suite_round_trips_and_sm4_tokens_still_open(settings):
    sm4_token = encrypt(ID_NUMBER, aad="row-a")
    settings.GJJ_CRYPTO_SUITE = "aes-256-gcm"
    aes_token = encrypt(ID_NUMBER, aad="row-a")
    assert aes_token.startswith("v1:k1:aes:")
    assert decrypt(aes_token, aad="row-a") == ID_NUMBER
    assert decrypt(sm4_token, aad="row-a") == ID_NUMBER
    with pytest.raises(DecryptionError):
        decrypt(aes_token, aad="row-b")


def test_derived_keys_differ_by_purpose_and_master_key(settings):
    settings.GJJ_MASTER_KEYS = {"k0": KEY_K0, "k1": KEY_K1}
    assert derive_key("a") != derive_key("b")
    assert derive_key("a", key_id="k0") != derive_key("a", key_id="k1")
    assert len(derive_key("a", length=16)) == 16


def test_changed_master_key_material_is_not_served_from_cache(settings):
    before = derive_key("a")
    settings.GJJ_MASTER_KEYS = {"k1": KEY_K0}
    assert derive_key("a") != before


def test_short_master_key_is_refused(settings):
    from django.core.exceptions import ImproperlyConfigured

    settings.GJJ_MASTER_KEYS = {"k1": base64.b64encode(b"too short").decode()}
    with pytest.raises(ImproperlyConfigured):
        encrypt(ID_NUMBER, aad="row-a")


def test_blind_index_is_deterministic_and_ignores_case_of_x():
    assert blind_index(ID_NUMBER) == blind_index(ID_NUMBER)
    assert blind_index(ID_NUMBER) == blind_index(ID_NUMBER.lower())
    assert re.fullmatch(r"[0-9a-f]{64}", blind_index(ID_NUMBER))
    assert blind_index(ID_NUMBER) != blind_index("110105194912310029")


def test_blind_index_differs_by_purpose():
    assert blind_index("13812341234", purpose="phone") != blind_index("13812341234", purpose="id_number")


def test_mac_is_hex_hmac_sm3_and_differs_by_purpose():
    assert re.fullmatch(r"[0-9a-f]{64}", mac(b"event"))
    assert mac(b"event") == mac(b"event")
    assert mac(b"event") != mac(b"event", purpose="otp")
    assert crypto.verify_mac(b"event", mac(b"event"))


@pytest.fixture
def member_model():
    with isolate_apps("gjj_portal"):

        class CryptoMember(models.Model):
            uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
            id_number_enc = models.TextField(blank=True)
            id_number = EncryptedAttribute("id_number_enc")

            class Meta:
                app_label = "gjj_portal"

            def __str__(self) -> str:
                return str(self.uuid)

        yield CryptoMember


def test_encrypted_attribute_stores_ciphertext_and_reads_plaintext(member_model):
    member = member_model(id_number=ID_NUMBER)
    assert member.id_number == ID_NUMBER
    assert member.id_number_enc.startswith("v1:k1:")
    assert ID_NUMBER not in member.id_number_enc


def test_encrypted_attribute_binds_ciphertext_to_model_field_and_row(member_model):
    member = member_model(id_number=ID_NUMBER)
    aad = f"gjj_portal.cryptomember.id_number:{member.uuid}"
    assert decrypt(member.id_number_enc, aad=aad) == ID_NUMBER


def test_encrypted_attribute_copied_to_another_row_fails(member_model):
    member_a, member_b = member_model(id_number=ID_NUMBER), member_model()
    member_b.id_number_enc = member_a.id_number_enc
    with pytest.raises(DecryptionError):
        _ = member_b.id_number


@pytest.mark.parametrize("empty", ["", None])
def test_encrypted_attribute_stores_empty_for_empty_values(member_model, empty):
    member = member_model(id_number=ID_NUMBER)
    member.id_number = empty
    assert member.id_number_enc == ""
    assert member.id_number == ""


def test_encrypted_attribute_on_the_class_is_the_descriptor(member_model):
    assert isinstance(member_model.id_number, EncryptedAttribute)
    assert member_model.id_number.name == "id_number"
    assert member_model.id_number.storage == "id_number_enc"


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        (ID_NUMBER, "110105********002X"),
        ("110105491231002", "11***********02"),
        ("", ""),
    ],
)
def test_id_numbers_are_masked(value, masked):
    assert mask_id(value) == masked


@pytest.mark.parametrize(
    ("value", "masked"),
    [("13812341234", "138****1234"), ("01012345678", "010****5678"), ("6512345", "65***45")],
)
def test_phone_numbers_are_masked(value, masked):
    assert mask_phone(value) == masked


def test_blob_round_trips_and_names_its_key():
    blob = encrypt_blob(b"\x00\xff" * 100, aad="approvals.batchimport.rows:1")
    assert blob.startswith(b"v1:k1:sm4:") and b"\x00\xff" * 4 not in blob
    assert decrypt_blob(blob, aad="approvals.batchimport.rows:1") == b"\x00\xff" * 100


def test_blob_bound_to_another_row_or_changed_by_one_byte_fails():
    blob = encrypt_blob(b"rows", aad="approvals.batchimport.rows:1")
    with pytest.raises(DecryptionError):
        decrypt_blob(blob, aad="approvals.batchimport.rows:2")
    tampered = blob[:-1] + bytes([blob[-1] ^ 1])
    with pytest.raises(DecryptionError):
        decrypt_blob(tampered, aad="approvals.batchimport.rows:1")
    with pytest.raises(DecryptionError):
        decrypt_blob(b"not a blob", aad="x")


def test_cipher_uuids_are_random_version_4_uuids_and_never_repeat_its_nonces():
    cipher = crypto.FieldCipher(nonces=3)  # a small block, so the pool is drawn again several times
    made = [cipher.uuid4_hex() for _ in range(200)]
    parsed = [uuid.UUID(hex=value) for value in made]
    assert all(value.version == 4 and value.variant == uuid.RFC_4122 for value in parsed)
    assert all(value.hex == text for value, text in zip(parsed, made, strict=True)) and len(set(made)) == 200
    assert str(parsed[0]) == crypto.dashed(made[0])
    tokens = [cipher.encrypt("x", aad="a") for _ in range(50)]
    nonces = {base64.urlsafe_b64decode(token.split(":")[3])[:12] for token in tokens}
    assert len(nonces) == 50 and not nonces & {bytes.fromhex(value)[:12] for value in made}
