"""Field encryption, blind indexes, MACs and masking with 国密 algorithms (SEC-37, SEC-38).

Master keys live in settings (from env or a secret store); every purpose gets its own
HKDF-SM3 key. Settings are read on each call so key rotation and tests take effect at once.
"""

import base64
import binascii
import functools
import hmac as std_hmac
import os
import unicodedata

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as crypto_hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

TOKEN_VERSION = "v1"
HKDF_SALT = b"gjj-portal-v1"
NONCE_BYTES = 12
TAG_BYTES = 16
MIN_MASTER_KEY_BYTES = 32

# suite setting -> (short name in tokens, key length in bytes)
SUITES = {"sm4-gcm": ("sm4", 16), "aes-256-gcm": ("aes", 32)}
_SUITE_BY_SHORT = {short: name for name, (short, _length) in SUITES.items()}


class DecryptionError(Exception):
    """A token could not be decrypted: tampered, bound to another row, malformed or its key is gone."""


@functools.lru_cache(maxsize=64)
def _decode_master_key(key_id: str, encoded: str) -> bytes:
    """Master keys are standard or URL-safe base64 of at least 32 bytes."""
    text = encoded.strip()
    text += "=" * (-len(text) % 4)
    try:
        if "-" in text or "_" in text:
            raw = base64.b64decode(text, altchars=b"-_", validate=True)
        else:
            raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ImproperlyConfigured(f"GJJ_MASTER_KEYS[{key_id!r}] is not valid base64") from None
    if len(raw) < MIN_MASTER_KEY_BYTES:
        raise ImproperlyConfigured(f"GJJ_MASTER_KEYS[{key_id!r}] must decode to at least 32 bytes")
    return raw


def active_key_id() -> str:
    """The key id new tokens, blind indexes and MACs are made with."""
    return settings.GJJ_ACTIVE_KEY_ID


def _master_key(key_id: str) -> bytes:
    """Look up and decode one master key from settings."""
    keys = settings.GJJ_MASTER_KEYS
    if key_id not in keys:
        raise ImproperlyConfigured(f"GJJ_MASTER_KEYS has no key {key_id!r}")
    return _decode_master_key(key_id, keys[key_id])


@functools.lru_cache(maxsize=256)
def _hkdf_sm3(key_id: str, master: bytes, purpose: str, length: int) -> bytes:
    """HKDF-SM3; cached per key material so a changed setting is never served a stale key."""
    return HKDF(algorithm=hashes.SM3(), length=length, salt=HKDF_SALT, info=purpose.encode()).derive(master)


def derive_key(purpose: str, *, key_id: str | None = None, length: int = 32) -> bytes:
    """Per-purpose key: HKDF-SM3(master key, salt=gjj-portal-v1, info=purpose)."""
    key_id = key_id or active_key_id()
    return _hkdf_sm3(key_id, _master_key(key_id), purpose, length)


def _suite() -> str:
    """The configured AEAD suite for new tokens."""
    suite = getattr(settings, "GJJ_CRYPTO_SUITE", "sm4-gcm")
    if suite not in SUITES:
        raise ImproperlyConfigured(f"GJJ_CRYPTO_SUITE must be one of {sorted(SUITES)}, not {suite!r}")
    return suite


def _field_key(suite: str, key_id: str) -> bytes:
    """Each suite gets its own field key, so one key never serves two ciphers."""
    return derive_key(f"field:{suite}", key_id=key_id, length=SUITES[suite][1])


@functools.lru_cache(maxsize=64)
def _sm4(key: bytes) -> algorithms.SM4:
    """The SM4 algorithm object for a key; it holds no state between messages, so it is reused."""
    return algorithms.SM4(key)


@functools.lru_cache(maxsize=64)
def _aesgcm(key: bytes) -> AESGCM:
    return AESGCM(key)


def _encrypt_bytes(suite: str, key: bytes, nonce: bytes, plaintext: bytes, aad: bytes) -> bytes:
    """AEAD encrypt, returning ct‖tag."""
    if suite == "aes-256-gcm":
        return _aesgcm(key).encrypt(nonce, plaintext, aad)
    encryptor = Cipher(_sm4(key), modes.GCM(nonce)).encryptor()
    encryptor.authenticate_additional_data(aad)
    return encryptor.update(plaintext) + encryptor.finalize() + encryptor.tag


def _open(suite: str, key: bytes, nonce: bytes, ciphertext: bytes, aad: bytes) -> bytes:
    """AEAD decrypt ct‖tag; raises InvalidTag on any tampering or a wrong AAD."""
    if suite == "aes-256-gcm":
        return _aesgcm(key).decrypt(nonce, ciphertext, aad)
    ciphertext, tag = ciphertext[:-TAG_BYTES], ciphertext[-TAG_BYTES:]
    decryptor = Cipher(_sm4(key), modes.GCM(nonce, tag)).decryptor()
    decryptor.authenticate_additional_data(aad)
    return decryptor.update(ciphertext) + decryptor.finalize()


def encrypt(plaintext: str, *, aad: str) -> str:
    """Encrypt with the active key and suite; token = v1:<key_id>:<suite>:<urlsafe b64(nonce‖ct‖tag)>."""
    return FieldCipher(nonces=1).encrypt(plaintext, aad=aad)


class FieldCipher:
    """Encrypts values with the active key and suite, both resolved once: for a bulk step that
    encrypts tens of thousands of values (an import encrypts two per person). Tokens are exactly
    those of encrypt(); each value gets its own random nonce, drawn from os.urandom in blocks.
    The random UUIDs of the rows it encrypts for come from the same blocks (uuid4_hex)."""

    def __init__(self, *, nonces: int = 4096) -> None:
        key_id, suite = active_key_id(), _suite()
        if ":" in key_id:
            raise ImproperlyConfigured("GJJ_ACTIVE_KEY_ID must not contain ':'")
        self._suite, self._key = suite, _field_key(suite, key_id)
        self._prefix = f"{TOKEN_VERSION}:{key_id}:{SUITES[suite][0]}:"
        self._block = NONCE_BYTES * nonces
        self._pool, self._at = b"", 0

    def _random(self, size: int) -> bytes:
        if self._at + size > len(self._pool):
            self._pool, self._at = os.urandom(max(self._block, size)), 0
        self._at += size
        return self._pool[self._at - size:self._at]

    def uuid4_hex(self) -> str:
        """A random UUID (version 4, as uuid.uuid4() makes) as 32 hex digits."""
        value = int.from_bytes(self._random(16)) & _UUID4_CLEAR | _UUID4_SET
        return f"{value:032x}"

    def encrypt(self, plaintext: str, *, aad: str) -> str:
        if not isinstance(plaintext, str):
            raise TypeError("encrypt takes a str")
        nonce = self._random(NONCE_BYTES)
        ciphertext = _encrypt_bytes(self._suite, self._key, nonce, plaintext.encode(), aad.encode())
        return self._prefix + base64.urlsafe_b64encode(nonce + ciphertext).decode("ascii")


# RFC 9562 version 4: the version nibble is 4, the variant bits are 10.
_UUID4_CLEAR = ~((0xF000 << 64) | (0xC000 << 48))
_UUID4_SET = (0x4000 << 64) | (0x8000 << 48)


def dashed(uuid_hex: str) -> str:
    """32 hex digits in the 8-4-4-4-12 form that str(uuid.UUID) gives (the AAD of a row's fields)."""
    h = uuid_hex
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _parse(token: str) -> tuple[str, str, bytes]:
    """Split a token into (key id, suite, nonce‖ct‖tag)."""
    parts = token.split(":") if isinstance(token, str) else []
    if len(parts) != 4 or parts[0] != TOKEN_VERSION or parts[2] not in _SUITE_BY_SHORT:
        raise DecryptionError("not a v1 encrypted token")
    try:
        raw = base64.b64decode(parts[3], altchars=b"-_", validate=True)
    except (binascii.Error, ValueError):
        raise DecryptionError("token payload is not valid base64") from None
    if len(raw) < NONCE_BYTES + TAG_BYTES:
        raise DecryptionError("token payload is too short")
    return parts[1], _SUITE_BY_SHORT[parts[2]], raw


def key_id_of(token: str | bytes) -> str:
    """The key id a token (encrypt) or a blob (encrypt_blob) was made with, for rotate_field_keys."""
    if isinstance(token, (bytes, bytearray, memoryview)):
        parts = bytes(token).split(b":", 3)
        if len(parts) != 4 or parts[0] != TOKEN_VERSION.encode():
            raise DecryptionError("not a v1 encrypted blob")
        return parts[1].decode("ascii", "replace")
    return _parse(token)[0]


def decrypt(token: str, *, aad: str) -> str:
    """Decrypt with the key id and suite named in the token, so tokens made with old keys still open."""
    key_id, suite, raw = _parse(token)
    if key_id not in settings.GJJ_MASTER_KEYS:
        raise DecryptionError(f"master key {key_id!r} is not configured")
    try:
        plaintext = _open(suite, _field_key(suite, key_id), raw[:NONCE_BYTES], raw[NONCE_BYTES:], aad.encode())
    except InvalidTag as exc:
        raise DecryptionError("ciphertext failed authentication (tampered or bound to another row)") from exc
    return plaintext.decode()


def encrypt_blob(data: bytes, *, aad: str) -> bytes:
    """Encrypt bytes for a binary column: b"v1:<key_id>:<suite>:" ‖ nonce ‖ ct ‖ tag (no base64: large values
    such as an import's checked rows are stored and read a third smaller and without encoding)."""
    key_id, suite = active_key_id(), _suite()
    nonce = os.urandom(NONCE_BYTES)
    ciphertext = _encrypt_bytes(suite, _field_key(suite, key_id), nonce, bytes(data), aad.encode())
    return f"{TOKEN_VERSION}:{key_id}:{SUITES[suite][0]}:".encode("ascii") + nonce + ciphertext


def decrypt_blob(blob: bytes, *, aad: str) -> bytes:
    """Decrypt what encrypt_blob made, with the key id and suite it names."""
    parts = bytes(blob).split(b":", 3)
    if len(parts) != 4 or parts[0] != TOKEN_VERSION.encode() or parts[2].decode("ascii", "replace") not in _SUITE_BY_SHORT:
        raise DecryptionError("not a v1 encrypted blob")
    key_id, suite, raw = parts[1].decode("ascii", "replace"), _SUITE_BY_SHORT[parts[2].decode()], parts[3]
    if len(raw) < NONCE_BYTES + TAG_BYTES:
        raise DecryptionError("blob payload is too short")
    if key_id not in settings.GJJ_MASTER_KEYS:
        raise DecryptionError(f"master key {key_id!r} is not configured")
    try:
        return _open(suite, _field_key(suite, key_id), raw[:NONCE_BYTES], raw[NONCE_BYTES:], aad.encode())
    except InvalidTag as exc:
        raise DecryptionError("ciphertext failed authentication (tampered or bound to another row)") from exc


def token_key_id(token: str) -> str:
    """The key id a token was made with."""
    return _parse(token)[0]


def needs_rotation(token: str) -> bool:
    """A stored token needs re-encryption when it was made with a key other than the active one."""
    if not token:
        return False
    return token_key_id(token) != active_key_id()


def reencrypt(token: str, *, aad: str) -> str:
    """Re-encrypt a token under the active key and suite (for rotate_field_keys)."""
    return encrypt(decrypt(token, aad=aad), aad=aad)


def _hmac_sm3_hex(key: bytes, data: bytes) -> str:
    """Hex HMAC-SM3."""
    signer = crypto_hmac.HMAC(key, hashes.SM3())
    signer.update(data)
    return signer.finalize().hex()


def blind_indexes(values, *, purpose: str = "id_number") -> dict[str, str]:
    """blind_index of many values, keyed by value: the keyed HMAC is set up once and copied for each."""
    keyed = crypto_hmac.HMAC(derive_key(f"blind-index:{purpose}"), hashes.SM3())
    indexes = {}
    for value in values:
        signer = keyed.copy()
        signer.update(normalize_lookup_value(value).encode())
        indexes[value] = signer.finalize().hex()
    return indexes


def normalize_lookup_value(value: str) -> str:
    """Lookup values compare after NFKC, without whitespace and in upper case (身份证 x == X)."""
    return "".join(unicodedata.normalize("NFKC", value).split()).upper()


def blind_index(value: str, *, purpose: str = "id_number", key_id: str | None = None) -> str:
    """Deterministic lookup token: HMAC-SM3 of the normalised value under the active key for this purpose."""
    if not isinstance(value, str):
        raise TypeError("blind_index takes a str")
    key = derive_key(f"blind-index:{purpose}", key_id=key_id)
    return _hmac_sm3_hex(key, normalize_lookup_value(value).encode())


def mac(data: bytes, *, purpose: str = "audit", key_id: str | None = None) -> str:
    """Hex HMAC-SM3 of data under the active (or named) key for this purpose (audit chain, appendix §4)."""
    if not isinstance(data, (bytes, bytearray)):
        raise TypeError("mac takes bytes")
    return _hmac_sm3_hex(derive_key(f"mac:{purpose}", key_id=key_id), bytes(data))


def verify_mac(data: bytes, expected: str, *, purpose: str = "audit", key_id: str | None = None) -> bool:
    """Constant-time check of a MAC made by mac()."""
    return std_hmac.compare_digest(mac(data, purpose=purpose, key_id=key_id), expected)


# A property subclass, because Django's Model(**kwargs) and objects.create() accept only
# fields and properties with a setter as keyword arguments.
class EncryptedAttribute(property):
    """Model attribute stored encrypted in another field, bound to the row by AAD <app.model>.<name>:<uuid>."""

    def __init__(self, storage: str) -> None:
        super().__init__(self._read, self._write, None, f"Encrypted; stored in {storage}.")
        self.storage = storage
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def aad_for(self, instance: object) -> str:
        """The AAD ties a ciphertext to its model, attribute and row."""
        row_uuid = getattr(instance, "uuid", None)
        if not row_uuid:
            raise ValueError(f"{type(instance).__name__}.uuid must be set before {self.name} is used")
        return f"{instance._meta.label_lower}.{self.name}:{row_uuid}"

    def _read(self, instance: object) -> str:
        token = getattr(instance, self.storage)
        return decrypt(token, aad=self.aad_for(instance)) if token else ""

    def _write(self, instance: object, value: str | None) -> None:
        token = encrypt(value, aad=self.aad_for(instance)) if value else ""
        setattr(instance, self.storage, token)


def _mask(value: str, head: int, tail: int) -> str:
    """Keep head and tail characters, star the rest; values too short to mask are fully starred."""
    if len(value) <= head + tail:
        return "*" * len(value)
    return value[:head] + "*" * (len(value) - head - tail) + value[-tail:]


def mask_id(value: str) -> str:
    """身份证号 for display: 110105********002X; other lengths keep 2 + 2 characters."""
    value = value or ""
    if len(value) == 18:
        return _mask(value, 6, 4)
    return _mask(value, 2, 2)


def mask_phone(value: str) -> str:
    """Mobile number for display: 138****1234; other lengths keep 2 + 2 characters."""
    value = value or ""
    if len(value) == 11:
        return _mask(value, 3, 4)
    return _mask(value, 2, 2)
