"""Redactor: every token shape it promises to hide is hidden, in text and in log records, and nothing else is touched."""

from __future__ import annotations

import logging

import pytest

from promoter.publish.redact import MASK, Redactor

SHAPES = {
    "classic PAT": "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2",
    "OAuth token": "gho_" + "a" * 36,
    "user-to-server token": "ghu_" + "B" * 36,
    "server-to-server token": "ghs_" + "9" * 36,
    "refresh token": "ghr_" + "c" * 36,
    "fine-grained PAT": "github_pat_" + "11ABCDEFG0" + "_" + "x" * 40,
    "GitLab PAT": "glpat-" + "Ab3_dEf-GhIjKlMnOp",
}


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_each_known_token_shape_is_masked_without_being_told(name: str) -> None:
    token = SHAPES[name]
    out = Redactor()(f"request failed with Authorization: token {token} (retrying)")
    assert token not in out
    assert out == f"request failed with Authorization: token {MASK} (retrying)"


def test_credentials_in_a_url_are_masked_and_the_host_kept() -> None:
    out = Redactor()("cannot push to https://oauth2:s3cr3t-v4lue@gitlab.example.com/group/app.git")
    assert "s3cr3t-v4lue" not in out and "oauth2" not in out
    assert out == f"cannot push to https://{MASK}@gitlab.example.com/group/app.git"


def test_a_secret_it_was_given_is_masked_whatever_its_shape() -> None:
    out = Redactor("hunter2-plain")("token=hunter2-plain; again hunter2-plain")
    assert out == f"token={MASK}; again {MASK}"


def test_a_secret_containing_another_is_masked_whole() -> None:
    out = Redactor("abcd", "abcdefgh")("value abcdefgh")
    assert out == f"value {MASK}"


def test_too_short_values_are_not_treated_as_secrets() -> None:
    # Masking every "abc" in every message would destroy the messages, not protect anything.
    assert Redactor("abc", None, "")("abc stays") == "abc stays"


def test_ordinary_text_is_left_alone() -> None:
    text = "ghcr.io/acme/app:1.2.3@sha256:" + "a" * 64 + " https://github.com/acme/app/pull/7"
    assert Redactor("not-in-text")(text) == text


def test_log_record_arguments_and_exceptions_are_redacted_when_made(caplog: pytest.LogCaptureFixture) -> None:
    secret = "s3cret-token-value"
    logger = logging.getLogger("test.redact")
    with caplog.at_level(logging.DEBUG, logger="test.redact"), Redactor(secret).installed():
        logger.debug("sending header %s=%s", "Authorization", f"Bearer {secret}")
        try:
            raise RuntimeError(f"server echoed {secret}")
        except RuntimeError:
            logger.exception("call failed")
        logger.info("broken %s %s format", secret)  # too few args: still redacted, never raised
    text = "\n".join(r.getMessage() + (r.exc_text or "") for r in caplog.records)
    assert secret not in text
    assert f"Authorization=Bearer {MASK}" in text
    assert f"server echoed {MASK}" in text


def test_the_log_record_factory_is_restored_afterwards() -> None:
    before = logging.getLogRecordFactory()
    with Redactor("whatever-secret").installed():
        assert logging.getLogRecordFactory() is not before
    assert logging.getLogRecordFactory() is before
    record = logging.getLogger("test.redact").makeRecord("n", logging.INFO, "f", 1, "whatever-secret", (), None)
    assert record.getMessage() == "whatever-secret"  # outside the context nothing is rewritten


def test_redactors_active_in_parallel_threads_end_in_any_order_without_leaking() -> None:
    """Two publishes in threads: A starts, B starts, A ends, B ends; afterwards logging is as before."""
    import threading

    before = logging.getLogRecordFactory()
    a, b = Redactor("secret-of-a"), Redactor("secret-of-b")
    a_in, b_in, a_out = threading.Event(), threading.Event(), threading.Event()
    seen: list[str] = []

    def run_a() -> None:
        with a.installed():
            a_in.set()
            b_in.wait(5)
        a_out.set()

    def run_b() -> None:
        a_in.wait(5)
        with b.installed():
            b_in.set()
            a_out.wait(5)
            record = logging.getLogger("t").makeRecord(
                "t", logging.INFO, "f", 1, "%s %s", ("secret-of-a", "secret-of-b"), None
            )
            seen.append(record.getMessage())

    threads = [threading.Thread(target=run_a), threading.Thread(target=run_b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert seen == [f"secret-of-a {MASK}"]  # a's context ended: only b's secret is still masked
    assert logging.getLogRecordFactory() is before


def test_escaped_and_base64_forms_of_a_secret_are_masked() -> None:
    import base64
    import json

    from promoter.publish.redact import Redactor

    secret = "canary_" + "Zq9x" * 8  # not a known token shape: found from the value alone
    r = Redactor(secret)
    forms = [
        secret,
        secret.replace("_", "\\_"),  # Markdown
        secret.replace("_", "&#95;"),  # HTML
        json.dumps(secret).replace("_", "\\u005f"),  # JSON
        secret.replace("_", "%5F"),  # URL
        base64.b64encode(f"a:{secret}:b".encode()).decode(),
        base64.b64encode(f"ab{secret}".encode()).decode(),
        base64.urlsafe_b64encode(f"abc{secret}z".encode()).decode(),
    ]
    for form in forms:
        out = r(f"before {form} after")
        assert out.startswith("before ") and out.endswith(" after") and "***" in out, (form, out)
        assert "Zq9xZq9x" not in out and base64.b64encode(secret.encode()).decode()[:12] not in out
    assert r("an unrelated text stays") == "an unrelated text stays"
