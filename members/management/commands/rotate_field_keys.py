"""Re-encrypt every stored secret under the active master key and recompute the ID blind indexes (SEC-37).

Run it right after switching GJJ_ACTIVE_KEY_ID (the old key listed in GJJ_OLD_MASTER_KEYS), in a maintenance
window: while rows still carry the old key, a look-up by ID number (blind index) misses them, so no 缴存人登记
should be completed meanwhile. It can be run again at any time; rows already under the active key are
left as they are. Afterwards the old key can be retired once no backup that still needs it is kept.

What it rewrites:
- 经办人/审核员: phone and TOTP seed;
- 缴存人: ID number and phone, and the ID's blind index (id_index);
- 清册 lines: the sealed secret, the ID and phone a 缴存人登记 line carries for its future member, and that
  line's dedupe key (the ID's blind index, which becomes the member's id_index at 完成办理);
- 批量导入: the uploaded file and the checked rows (whose lines are rewritten as above).
"""

import json

from django.core.management.base import BaseCommand
from django.db import transaction

from approvals.models import BatchImport, BatchLine
from employers.models import User
from gjj_portal import audit, crypto
from gjj_portal.bulk import aad_for

from ...models import Member

SEALED = ("id_number", "phone")  # the fields a 缴存人登记 line encrypts for its member (register.encrypt_secret)


class Command(BaseCommand):
    help = "换钥后，用当前主密钥重新加密全部敏感字段并重算证件号码盲索引。"

    def add_arguments(self, parser):
        parser.add_argument("--chunk", type=int, default=500, help="rows per transaction")

    def handle(self, *args, chunk: int, **options):
        self.active, self.chunk = crypto.active_key_id(), chunk
        counts = {
            "users": self._attributes(User, ["phone", "totp_secret"]),
            "members": self._members(),
            "lines": self._lines(),
            "imports": self._imports(),
        }
        audit.record("crypto.keys.rotated", data={"active": self.active, **counts})
        self.stdout.write("已用密钥 {} 重新加密：账号 {users} 个，缴存人 {members} 个，清册明细 {lines} 条，批量导入 {imports} 个。".format(
            self.active, **counts))

    # ---- helpers -----------------------------------------------------------------------------------

    def _stale(self, token) -> bool:
        return bool(token) and crypto.key_id_of(token) != self.active

    def _rows(self, queryset):
        """The rows in chunks, each chunk written in one transaction (a long table never holds one lock for long)."""
        last = 0
        while True:
            with transaction.atomic():
                rows = list(queryset.filter(pk__gt=last).order_by("pk").select_for_update(no_key=True)[: self.chunk])
                if not rows:
                    return
                yield rows
            last = rows[-1].pk

    def _reencrypt(self, obj, names: list[str]) -> list[str]:
        """Re-encrypt the obj's EncryptedAttributes that are under an old key; the storage fields changed."""
        changed = []
        for name in names:
            attribute = getattr(type(obj), name)
            token = getattr(obj, attribute.storage)
            if self._stale(token):
                setattr(obj, attribute.storage, crypto.reencrypt(token, aad=attribute.aad_for(obj)))
                changed.append(attribute.storage)
        return changed

    def _rewrite(self, queryset, rewrite) -> int:
        """rewrite(obj) brings one row under the active key and names the fields it changed; those are saved."""
        count = 0
        for rows in self._rows(queryset):
            for obj in rows:
                if changed := rewrite(obj):
                    obj.save(update_fields=changed)
                    count += 1
        return count

    def _attributes(self, model, names: list[str]) -> int:
        return self._rewrite(model.objects.all(), lambda obj: self._reencrypt(obj, names))

    def _members(self) -> int:
        def rewrite(member) -> list[str]:
            changed = self._reencrypt(member, ["id_number", "phone"])
            index = crypto.blind_index(member.id_number) if member.id_number_enc else member.id_index
            if index != member.id_index:
                member.id_index = index
                changed.append("id_index")
            return changed

        return self._rewrite(Member.objects.only("pk", "uuid", "id_number_enc", "phone_enc", "id_index"), rewrite)

    def _encrypted_data(self, data: dict) -> tuple[dict, str | None]:
        """A 缴存人登记 line's data with its sealed ID and phone under the active key, and the ID's blind index."""
        member_uuid = data.get("member_uuid")
        if not member_uuid or not data.get("id_number_enc"):
            return data, None
        row = crypto.dashed(member_uuid) if len(member_uuid) == 32 else member_uuid
        data = dict(data)
        for field in SEALED:
            token = data.get(f"{field}_enc")
            if self._stale(token):
                data[f"{field}_enc"] = crypto.reencrypt(token, aad=aad_for(Member, field, row))
        number = crypto.decrypt(data["id_number_enc"], aad=aad_for(Member, "id_number", row))
        return data, crypto.blind_index(number)

    def _lines(self) -> int:
        def rewrite(line) -> list[str]:
            changed = self._reencrypt(line, ["secret_json"])
            data, index = self._encrypted_data(line.data)
            if data != line.data:
                line.data = data
                changed.append("data")
            if index is not None and index != line.key:
                line.key = index
                changed.append("key")
            return changed

        return self._rewrite(BatchLine.objects.only("pk", "uuid", "key", "data", "secret_enc"), rewrite)

    def _imports(self) -> int:
        def rewrite(record) -> list[str]:
            changed = []
            if self._stale(record.file_blob):
                record.file = record.file
                changed.append("file_blob")
            if record.rows_blob:  # the blob, and the lines it keeps, each of which seals under a key of its own
                rows = record.rows
                rewritten = [self._ready_line(line) for line in rows]
                if rewritten != rows or self._stale(record.rows_blob):
                    record.rows = rewritten
                    changed.append("rows_blob")
            return changed

        return self._rewrite(BatchImport.objects.only("pk", "uuid", "file_blob", "rows_blob"), rewrite)

    def _ready_line(self, line):
        """A checked row kept for 仅录入正确行: [row, key, member_id, amount, line uuid, secret_enc, data JSON]."""
        if not isinstance(line, list):  # rows checked before lines were sealed at the check: sealed when staged
            return line
        row_no, key, member_id, amount, line_uuid, token, data_json = line
        if self._stale(token):
            token = crypto.reencrypt(token, aad=aad_for(BatchLine, "secret_json", crypto.dashed(line_uuid)))
        data, index = self._encrypted_data(json.loads(data_json))
        return [row_no, index or key, member_id, amount, line_uuid, token, json.dumps(data, ensure_ascii=False, separators=(",", ":"))]

