"""The ``CredentialProvider`` hook specification: every hook a plugin can implement.

A plugin is a module (or object) registered through the ``entra_auth`` entry-point group::

    [project.entry-points.entra_auth]
    my-provider = "my_package.plugin"

and implements any of these hooks with ``@entra_auth.hookimpl``. Hooks take a ``register``
callback rather than returning lists, as simonw/llm does, so a plugin can register several
things and core can tell which plugin registered what.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from .certificates.stores import CertificateStore
    from .providers import Provider
    from .secret_references import SecretScheme
    from .token_store import TokenCacheBackend

hookspec = pluggy.HookspecMarker("entra_auth")
hookimpl = pluggy.HookimplMarker("entra_auth")


class CredentialProvider:
    """Hook specification for entra-auth plugins."""

    @hookspec
    def entra_auth_register_providers(self, register: Callable[[Provider], None]) -> None:
        """Register credential providers.

        Called once per process, the first time core needs the list of providers (``connect``,
        ``entra-auth plugins``). Every implementation is called, one plugin at a time: one that
        raises is reported (``entra-auth plugins``) and the others still register.

        :param register: Call ``register(provider)`` once per provider, with an instance of a
            :class:`entra_auth.Provider` subclass. Two providers with the same ``name`` are an
            error that names both plugins; selecting that name fails until one is removed or
            disabled with ``ENTRA_AUTH_DISABLE_PLUGINS``.
        :return: Nothing; the return value is ignored.
        """

    @hookspec(firstresult=True)
    def entra_auth_resolve_secret(self, reference: str) -> str | None:
        """Resolve a secret reference to the secret's value.

        Called each time a provider needs a secret option whose scheme no plugin registered
        with ``entra_auth_register_secret_schemes`` (prefer that hook: its schemes are listed
        by ``entra-auth plugins``), with the reference exactly as the user wrote it, e.g.
        ``vault:apps/prod``. A plugin adds a scheme by answering for it.

        The first non-None result wins; later implementations are not called.

        :param reference: The reference string. Look only at your own scheme.
        :return: The secret's value, or None when the scheme is not yours. Raise
            :class:`entra_auth.SecretReferenceError` when the scheme is yours but the secret
            cannot be read; the message must name the reference, never the value.
        """

    @hookspec
    def entra_auth_register_secret_schemes(self, register: Callable[[SecretScheme], None]) -> None:
        """Register secret reference schemes (``vault:PATH``).

        Called once per process, the first time a secret is resolved or the schemes are listed
        (``entra-auth plugins``). Every implementation is called; core registers ``env``,
        ``file``, ``keyring``, ``prompt`` and ``stdin`` first. A scheme name registered twice
        keeps its first owner (no plugin can take over ``env:``) and the second registration is
        reported as a plugin problem.

        :param register: Call ``register(scheme)`` once per scheme, with an
            :class:`entra_auth.SecretScheme` whose ``resolve(reference)`` returns the value or
            raises :class:`entra_auth.SecretReferenceError` naming the reference, never the
            value.
        :return: Nothing; the return value is ignored.
        """

    @hookspec
    def entra_auth_register_certificate_stores(
        self, register: Callable[[CertificateStore], None]
    ) -> None:
        """Register certificate stores searched by thumbprint and by subject name.

        Called once per process, the first time a provider looks a certificate up. Every
        implementation is called; stores are searched in registration order, core's own first
        (``ENTRA_AUTH_CERT_PATH`` folders, the entra-auth store, the .NET CurrentUser\\My store).

        A store may declare ``options`` (a tuple of :class:`entra_auth.Option`, given through
        ``--option`` or a profile, secrets by reference) and ``bind(settings)``: called once per
        sign-in with the :class:`entra_auth.ProviderSettings` (options, ``secret(name)``), it
        returns the store to search, so an HSM store can read its PIN reference.

        :param register: Call ``register(store)`` once per store, with an object implementing
            :class:`entra_auth.CertificateStore`.
        :return: Nothing; the return value is ignored.
        """

    @hookspec
    def entra_auth_register_token_caches(
        self, register: Callable[[TokenCacheBackend], None]
    ) -> None:
        """Register shared token cache backends, selected by the scheme of a ``token_cache`` URL.

        Called once per process, the first time core opens a credential whose ``token_cache``
        setting is set (``connect(..., token_cache=URL)``, the profile key ``token_cache``,
        ``--token-cache URL``) or lists the backends (``entra-auth plugins``). Every
        implementation is called; a scheme registered twice keeps its first owner and the
        second registration is reported as a plugin problem.

        A backend has ``name``, ``schemes`` (URL schemes, e.g. ``("redis", "rediss")``),
        ``options`` (a tuple of :class:`entra_auth.Option`, given through ``--option`` or a
        profile, secrets by reference) and ``open(url, settings, partition)``, which returns a
        token store: ``load(key)``, ``save(key, result)`` and optionally ``lock(key)`` (a
        context manager held while one process fetches the token, so a fleet asks once). Keys
        are the same as the ``CurrentUser`` file cache's, inside ``partition``. A store raises
        ``OSError`` (``ConnectionError``, ``TimeoutError``) when its engine cannot be reached:
        core then warns once and falls back to the local cache, or fails when
        ``token_cache_fallback`` is ``fail``.

        :param register: Call ``register(backend)`` once per backend.
        :return: Nothing; the return value is ignored.
        """
