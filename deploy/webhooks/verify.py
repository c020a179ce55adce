"""Checks webhook deliveries with the reference Standard Webhooks library (PyPI
`standardwebhooks`), independently of the service's own signer.

stdin: {"checks": [{"secret": "whsec_…", "headers": {...}, "body": "…", "now": <unix seconds,
optional: the moment to verify at>, "valid": true|false}]}. Exits 0 when every check comes out as
expected, 1 (naming the checks that did not) otherwise.
"""

import json
import sys
from datetime import datetime, timezone

from standardwebhooks import webhooks


def verified(check):
    now = check.get("now")
    if now is not None:
        frozen = datetime.fromtimestamp(now, tz=timezone.utc)

        class Frozen(datetime):
            @classmethod
            def now(cls, tz=None):
                return frozen

        webhooks.datetime = Frozen
    else:
        webhooks.datetime = datetime
    try:
        webhooks.Webhook(check["secret"]).verify(check["body"], check["headers"])
        return True
    except webhooks.WebhookVerificationError:
        return False


def main():
    checks = json.load(sys.stdin)["checks"]
    wrong = [n for n, check in enumerate(checks) if verified(check) != check["valid"]]
    if wrong:
        print(f"checks {wrong} of {len(checks)} came out otherwise than expected", file=sys.stderr)
        sys.exit(1)
    print(f"{len(checks)} checks as expected")


main()
