"""Encryption at rest of gateway access tokens (Fernet: AES-128-CBC with HMAC-SHA256).

``ISA_ENCRYPTION_KEY`` is a Fernet key (``isa keygen``-style: 32 url-safe base64 bytes).
In development (only the development client configured) a key is generated into the
data directory on first run, readable by this user only; otherwise the key is required,
because a key that silently changes would make every stored token undecryptable.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Final

from cryptography.fernet import Fernet, InvalidToken

from server.errors import ConfigError
from server.secret import Secret

KEY_FILE: Final = "encryption.key"


class TokenCipher:
    """Encrypts and decrypts access tokens; neither the key nor a plaintext is ever shown."""

    __slots__ = ("_fernet",)

    def __init__(self, key: Secret) -> None:
        try:
            self._fernet = Fernet(key.reveal().encode())
        except ValueError:
            raise ConfigError(
                "ISA_ENCRYPTION_KEY must be a Fernet key: 32 url-safe base64-encoded bytes"
            ) from None

    def __repr__(self) -> str:
        return "TokenCipher(***)"

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, ciphertext: str) -> str:
        """The plaintext; a token encrypted under another key is a configuration error."""
        try:
            return self._fernet.decrypt(ciphertext.encode()).decode()
        except InvalidToken:
            raise ConfigError(
                "a stored access token cannot be decrypted: ISA_ENCRYPTION_KEY changed"
            ) from None


def load_cipher(key: Secret | None, *, data_dir: Path, development: bool) -> TokenCipher:
    """The configured key, else (development only) the data directory's, made once."""
    if key is not None:
        return TokenCipher(key)
    if not development:
        raise ConfigError(
            "ISA_ENCRYPTION_KEY is required when clients are configured (it encrypts "
            "stored gateway access tokens); generate one with: python -c "
            "'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"
        )
    path = data_dir / KEY_FILE
    if not path.exists():
        _make_key_file(path)
    return TokenCipher(Secret(path.read_text().strip()))


def _make_key_file(path: Path) -> None:
    """Write a new key whole, then link it into place: workers starting together never
    read a file another one has created but not written yet, and all use one key."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, draft = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(descriptor, "wb") as out:  # mkstemp makes it 0600
            out.write(Fernet.generate_key())
        with contextlib.suppress(FileExistsError):  # another process made it first
            os.link(draft, path)
    finally:
        os.unlink(draft)
