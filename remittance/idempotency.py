"""Server-issued one-time keys for money forms (SEC-34).

The form carries a signed token binding a fresh UUID4 to the user, the employer, the purpose
and the object; the key inside becomes Entry.idempotency_key, whose unique constraint per
employer makes a replayed or double-clicked submission return the first posting.
"""

import uuid

from django.core import signing

SALT = "remittance.idempotency"
MAX_AGE_SECONDS = 4 * 3600


class InvalidKey(Exception):
    """The token is missing, forged, expired or bound to someone or something else."""


def key_issue(*, user, employer, purpose: str, object_id: int) -> str:
    payload = {"k": uuid.uuid4().hex, "u": user.pk, "e": employer.pk, "p": purpose, "o": object_id}
    return signing.dumps(payload, salt=SALT, compress=False)


def key_check(token: str, *, user, employer, purpose: str, object_id: int) -> str:
    """The key inside a valid token, or InvalidKey."""
    try:
        payload = signing.loads(token or "", salt=SALT, max_age=MAX_AGE_SECONDS)
    except signing.BadSignature:
        raise InvalidKey("表单已过期或无效，请刷新页面后重新办理。") from None
    if payload.get("u") != user.pk or payload.get("e") != employer.pk or payload.get("p") != purpose or payload.get("o") != object_id:
        raise InvalidKey("表单已过期或无效，请刷新页面后重新办理。")
    return payload["k"]
