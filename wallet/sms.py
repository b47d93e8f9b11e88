"""Text messages to phones, through the backend ``SMS_BACKEND`` names (a dotted path).

A real provider plugs in as a subclass of :class:`BaseSmsBackend` whose ``send`` delivers
one message or raises :class:`SmsNotSent`; nothing else in the code knows which provider
it is. Two backends ship:

- :class:`ConsoleBackend` (the default, the demo): writes the message to the log and to
  standard output, so whoever runs the demo reads the code there. ``check --deploy``
  warns while it is the backend with ``DEBUG=0`` (no citizen would ever get a code).
- :class:`LocmemBackend` (the tests): appends each message to :data:`outbox`.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SmsMessage:
    number: str
    text: str


# What LocmemBackend sent, oldest first; tests read and clear it.
outbox: list[SmsMessage] = []


class SmsNotSent(Exception):
    """The provider did not take the message (down, refused the number)."""


class BaseSmsBackend:
    """Sends one text message to one E.164 number, or raises :class:`SmsNotSent`."""

    def send(self, *, number: str, text: str) -> None:
        raise NotImplementedError


class ConsoleBackend(BaseSmsBackend):
    """The demo's backend: the message goes to the log and standard output, nowhere else."""

    def send(self, *, number: str, text: str) -> None:
        logger.info("sms (console backend, not sent)", extra={"number": number, "text": text})
        sys.stdout.write(f"SMS to {number}: {text}\n")
        sys.stdout.flush()


class LocmemBackend(BaseSmsBackend):
    """The tests' backend: the message is kept in :data:`outbox`."""

    def send(self, *, number: str, text: str) -> None:
        outbox.append(SmsMessage(number=number, text=text))


def backend() -> BaseSmsBackend:
    """An instance of the configured backend (``SMS_BACKEND``)."""
    backend_class: type[BaseSmsBackend] = import_string(settings.SMS_BACKEND)
    return backend_class()


def sms_send(*, number: str, text: str) -> None:
    """Send ``text`` to ``number`` through the configured backend; :class:`SmsNotSent`
    (or any error of the backend, wrapped in it) if it was not taken."""
    try:
        backend().send(number=number, text=text)
    except SmsNotSent:
        raise
    except Exception as error:  # a provider's own errors, whatever they are
        raise SmsNotSent(str(error)) from error
