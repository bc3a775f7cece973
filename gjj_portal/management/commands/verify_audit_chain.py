"""Verify the audit hash chain and record today's anchor digest (SEC-43).

The digest (day, last seq, last mac) is kept twice: as an AuditAnchor row, and as one log line of the
`gjj.audit` logger, which the log shipping (GJJ_SYSLOG_ADDRESS) carries off the host. Someone who can drop
the append-only triggers can also rewrite the head and the anchor rows; the shipped line they cannot reach.
`--anchor SEQ:MAC` checks the chain against such a line taken back from the collector.
"""

import logging
import re

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from gjj_portal import audit
from gjj_portal.models import AuditAnchor

log = logging.getLogger("gjj.audit")
ANCHOR_RE = re.compile(r"^(\d{1,18}):([0-9a-f]{64})$")


def _external(values: list[str]) -> list[tuple[int, str]]:
    pairs = []
    for value in values:
        match = ANCHOR_RE.match(value.strip().lower().replace("-", ""))
        if match is None:
            raise CommandError(f"外部锚点格式应为 序号:校验值（64位十六进制，可带连字符）：{value[:100]}")
        pairs.append((int(match[1]), match[2]))
    return pairs


class Command(BaseCommand):
    help = "校验审计日志哈希链；完好时记录当日锚点，并把锚点摘要写入外送日志。"

    def add_arguments(self, parser):
        parser.add_argument(
            "--anchor", action="append", default=[], metavar="SEQ:MAC",
            help="外部保存的锚点摘要（取自日志采集端的 audit.anchor 日志行），可重复。",
        )

    def handle(self, *args, **options):
        external = _external(options["anchor"])
        problems = audit.verify_chain(external=external)
        if problems:
            for problem in problems:
                self.stderr.write(problem)
            log.error("audit.verify failed problems=%d first=%s", len(problems), problems[0])
            raise CommandError(f"审计日志校验失败：发现 {len(problems)} 处问题，未更新锚点。")
        last_seq, last_mac, rows = audit.chain_tail()
        if last_seq:
            with transaction.atomic():
                # An anchor only ever moves forward: never to a seq older than one already anchored.
                highest = AuditAnchor.objects.select_for_update(no_key=True).aggregate(top=Max("last_seq"))["top"] or 0
                if last_seq < highest:
                    raise CommandError(f"锚点不能后退：已有锚点记录至 seq {highest}，现存最后一条为 seq {last_seq}。")
                day = timezone.localdate()
                AuditAnchor.objects.update_or_create(day=day, defaults={"last_seq": last_seq, "last_mac": last_mac})
            log.info("audit.anchor day=%s seq=%d rows=%d mac=%s", day.isoformat(), last_seq, rows, audit.digest_text(last_mac))
        self.stdout.write(f"审计日志完好：共 {rows} 条（序号至 {last_seq}）。")
