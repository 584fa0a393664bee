"""The workbench's own state, in ``.kaohe-web.json`` (0600) in the workspace: the admin
password as an scrypt hash, the session-signing secret, and the unit links — each a random
token shown once, stored only as its SHA-256, revocable, expiring."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import threading
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from ..errors import KaoheError
from ..writers import atomic

STORE_NAME = ".kaohe-web.json"
MIN_PASSWORD = 8
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


@dataclass
class UnitLink:
    id: str  # the first characters of the token's hash: names the link, never opens it
    token_sha256: str
    unit: str
    period: str
    created: str
    expires: str  # a day, inclusive
    revoked: bool = False

    def valid_on(self, day: date) -> bool:
        return not self.revoked and day <= date.fromisoformat(self.expires)


@dataclass
class _State:
    secret: str = field(default_factory=lambda: secrets.token_hex(32))
    admin: dict[str, str] = field(default_factory=dict)
    links: list[UnitLink] = field(default_factory=list)


def _hash(password: str, salt: bytes) -> str:
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, dklen=32, **_SCRYPT).hex()


class WebStore:
    def __init__(self, root: Path) -> None:
        self.path = root / STORE_NAME
        self._lock = threading.Lock()
        self.state = self._load()

    def _load(self) -> _State:
        if not self.path.is_file():
            return _State()
        data = json.loads(self.path.read_text(encoding="utf-8"))
        links = [UnitLink(**item) for item in data.get("links", [])]
        return _State(secret=data["secret"], admin=data.get("admin", {}), links=links)

    def _save(self) -> None:
        data = {
            "secret": self.state.secret,
            "admin": self.state.admin,
            "links": [asdict(link) for link in self.state.links],
        }
        text = json.dumps(data, ensure_ascii=False, indent=2)
        atomic.write_bytes(self.path, text.encode("utf-8"))  # 0600

    @property
    def secret(self) -> bytes:
        return self.state.secret.encode()

    # -- the admin password -------------------------------------------------------------------

    @property
    def has_password(self) -> bool:
        return bool(self.state.admin)

    def set_password(self, password: str) -> None:
        if len(password) < MIN_PASSWORD:
            raise KaoheError(f"密码至少 {MIN_PASSWORD} 位")
        salt = secrets.token_bytes(16)
        with self._lock:
            self.state.admin = {"salt": salt.hex(), "scrypt": _hash(password, salt)}
            self._save()

    def check_password(self, password: str) -> bool:
        admin = self.state.admin
        if not admin:
            return False
        expected = admin["scrypt"]
        return hmac.compare_digest(_hash(password, bytes.fromhex(admin["salt"])), expected)

    # -- unit links --------------------------------------------------------------------------

    def create_link(self, unit: str, period: str, expires: date) -> tuple[UnitLink, str]:
        """A new link for ``unit``; the token is returned once and stored only hashed."""
        token = secrets.token_urlsafe(24)  # 192 bits
        digest = hashlib.sha256(token.encode()).hexdigest()
        link = UnitLink(
            digest[:10], digest, unit, period,
            datetime.now().astimezone().isoformat(timespec="seconds"), expires.isoformat(),
        )  # fmt: skip
        with self._lock:
            self.state.links.append(link)
            self._save()
        return link, token

    def revoke(self, link_id: str) -> None:
        with self._lock:
            for link in self.state.links:
                if link.id == link_id:
                    link.revoked = True
            self._save()

    def link_for(self, token: str, today: date) -> UnitLink | None:
        """The valid link a token opens, or None (unknown, revoked, expired)."""
        digest = hashlib.sha256(token.encode()).hexdigest()
        for link in self.state.links:
            if hmac.compare_digest(link.token_sha256, digest):
                return link if link.valid_on(today) else None
        return None

    def links(self) -> list[UnitLink]:
        return list(self.state.links)


def default_expiry(deadline: date, days: int = 14) -> date:
    return deadline + timedelta(days=days)
