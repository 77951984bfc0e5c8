"""``ledger keys ...``: create key files and manage the ledger's key registry."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from cli.common import (
    as_of_option,
    as_of_point,
    ask_passphrase,
    emit_json,
    json_option,
    key_option,
    load_key,
    open_ledger,
    table,
)

ROLE_HELP = "Role for the key (repeat): secretariat, member, chair, auditor, ombudsperson, mediator, witness."


@click.group()
def keys() -> None:
    """Create key files; register, rotate, retire and revoke keys in the ledger."""


@keys.command("new")
@click.argument("name")
@click.option("--dir", "directory", type=click.Path(file_okay=False), default=".", show_default=True,
              help="Where to write NAME.key and NAME.pub.")
@click.option("--passphrase", "ask", is_flag=True,
              help="Encrypt the private key with a passphrase typed at the terminal (twice, never echoed).")
@click.option("--age", "age", is_flag=True,
              help="Write an age identity NAME.age instead (for receiving sealed content); prints its age1... "
                   "recipient, to register with 'ledger keys recipient'.")
def new_key(name: str, directory: str, ask: bool, age: bool) -> None:
    """Write NAME.key (private, mode 0600) and NAME.pub; print the key id.

    With --passphrase (or when LEDGER_KEY_PASSPHRASE is set, for scripts) the
    private key is encrypted; commands then ask for the passphrase at a terminal.

    Example: ledger keys new alice
    """
    from ledger import Signer, write_key_pair

    if not name or "/" in name or name.startswith("."):
        raise click.BadParameter("NAME must be a plain file name", param_hint="NAME")
    if age:
        from ledger.sealed import write_identity

        Path(directory).mkdir(parents=True, exist_ok=True)
        path = Path(directory) / f"{name}.age"
        click.echo(write_identity(path))
        click.echo(f"wrote {path} (keep it private: it opens sealed content)", err=True)
        return
    passphrase = None
    if ask:
        passphrase = click.prompt("Passphrase for the new key", hide_input=True, confirmation_prompt=True,
                                  err=True)
        if not passphrase:
            raise click.BadParameter("the passphrase must not be empty", param_hint="--passphrase")
    Path(directory).mkdir(parents=True, exist_ok=True)
    signer = Signer.generate()
    key_path, pub_path = write_key_pair(signer, Path(directory) / name, passphrase)
    click.echo(signer.key_id)
    click.echo(f"wrote {key_path} and {pub_path}", err=True)


@keys.command("id")
@click.argument("file", type=click.Path(dir_okay=False))
def show_id(file: str) -> None:
    """Print the key id of a .key or .pub file."""
    from ledger.keys import key_id, load_public

    click.echo(key_id(load_public(file, ask_passphrase)))


@keys.command("list")
@json_option
@as_of_option
def list_keys(as_json: bool, as_of: str | None) -> None:
    """List every key the ledger knows, with holder, roles and status (--as-of: as they were then)."""
    from projections.describe import registry_as_of

    ledger = open_ledger()
    position, _moment = as_of_point(ledger, as_of)
    rows: list[dict[str, Any]] = [
        {"key_id": k.key_id, "person": k.person, "holder": k.holder, "roles": list(k.roles), "status": k.status,
         "compromised_since": k.compromised_since}
        for k in registry_as_of(ledger, position).keys.values()
    ]
    if as_json:
        emit_json({"keys": rows})
        return
    click.echo(table(
        [[r["key_id"][:16], r["holder"], ",".join(r["roles"]), r["status"]] for r in rows],
        ["KEY", "HOLDER", "ROLES", "STATUS"],
    ))


@keys.command("register")
@click.argument("public_file", type=click.Path(dir_okay=False))
@click.option("--holder", default=None,
              help="Who holds the key: a person's name with their organisation in brackets.")
@click.option("--person", default=None,
              help="Register another key (a second device) of this existing person (name or id) instead.")
@click.option("--role", "roles", multiple=True, required=True, help=ROLE_HELP)
@key_option
def register(public_file: str, holder: str | None, person: str | None, roles: tuple[str, ...],
             key_path: str | None) -> None:
    """Register the public key in PUBLIC_FILE (a .pub file) for a new person, or
    as another key of an existing --person.

    Example: ledger keys register bob.pub --holder "Bob Okafor (Tenants' Union)" --role member
    --key keys/secretariat.key
    """
    import base64

    from ledger.keys import load_public

    if (holder is None) == (person is None):
        raise click.UsageError("give --holder (a new person) or --person (another key of someone known), not both")
    signer = load_key(key_path)
    public = base64.b64encode(load_public(public_file, ask_passphrase)).decode("ascii")
    info = open_ledger().register_key(signer, public, holder or "", list(roles), person)
    click.echo(f"registered key {info.key_id} for {info.holder} ({', '.join(info.roles)})")


@keys.command("recipient")
@click.argument("recipient")
@click.option("--person", default=None, help="Whose it is (name or id); default: the signer.")
@key_option
def recipient(recipient: str, person: str | None, key_path: str | None) -> None:
    """Register RECIPIENT (age1..., or an age identity file) as a person's age recipient:
    confidential content for them is sealed to it.

    Example: ledger keys recipient ruth.age --person "Judge Ruth Adeyemi" --key keys/secretariat.key
    """
    from ledger.sealed import recipient_of

    signer = load_key(key_path)
    ledger = open_ledger()
    registered = ledger.register_recipient(signer, person or signer.key_id, recipient_of(recipient))
    click.echo(f"registered an age recipient for {ledger.registry().name_of(registered)}")


@keys.command("rotate")
@click.argument("old_key_id")
@click.argument("public_file", type=click.Path(dir_okay=False))
@click.option("--reason", default="", help="Why (kept in the record).")
@key_option
def rotate(old_key_id: str, public_file: str, reason: str, key_path: str | None) -> None:
    """Move the holder of OLD_KEY_ID (a key id, a prefix of 8 or more hex digits,
    or the holder's name) to the new key in PUBLIC_FILE.

    The new key takes the old one's holder, roles, seats and votes; the old
    key signs nothing more, and everything it signed stays valid and the
    holder's.  Sign with the old key itself, or with a secretariat key when
    the old key is lost.

    Example: ledger keys rotate "Amara Okafor" amara-2.pub --reason "new laptop" --key keys/cso-air.key
    """
    import base64

    from ledger.keys import load_public

    signer = load_key(key_path)
    public = base64.b64encode(load_public(public_file, ask_passphrase)).decode("ascii")
    info = open_ledger().rotate_key(signer, old_key_id, public, reason)
    click.echo(f"rotated {info.holder} to key {info.key_id}")


@keys.command("retire")
@click.argument("key_id")
@click.option("--reason", default="", help="Why (kept in the record).")
@key_option
def retire(key_id: str, reason: str, key_path: str | None) -> None:
    """Retire KEY_ID: it signs nothing from now on; its past records stay valid."""
    info = open_ledger().retire_key(load_key(key_path), key_id, reason)
    click.echo(f"retired key {info.key_id} ({info.holder})")


@keys.command("retire-holder")
@click.argument("holder")
@click.option("--reason", default="", help="Why (kept in the records).")
@key_option
def retire_holder(holder: str, reason: str, key_path: str | None) -> None:
    """Retire every active key of HOLDER (someone who has left)."""
    retired = open_ledger().retire_holder(load_key(key_path), holder, reason)
    for info in retired:
        click.echo(f"retired key {info.key_id} ({info.holder})")


@keys.command("revoke")
@click.argument("key_id")
@click.option("--compromised-since", required=True, metavar="TIME",
              help="RFC 3339 time from which the key's signatures are void, e.g. 2026-11-01T00:00:00Z.")
@click.option("--reason", default="", help="Why (kept in the record).")
@key_option
def revoke(key_id: str, compromised_since: str, reason: str, key_path: str | None) -> None:
    """Revoke KEY_ID: every signature it made since TIME becomes invalid."""
    from ledger.timeparse import parse_user_time

    since = parse_user_time(compromised_since)
    info = open_ledger().revoke_key(load_key(key_path), key_id, since, reason)
    click.echo(f"revoked key {info.key_id} ({info.holder}) as compromised since {info.compromised_since}")


@keys.command("roles")
@click.argument("key_id")
@click.option("--role", "roles", multiple=True, required=True, help=ROLE_HELP)
@key_option
def roles(key_id: str, roles: tuple[str, ...], key_path: str | None) -> None:
    """Replace the roles of KEY_ID."""
    info = open_ledger().change_roles(load_key(key_path), key_id, list(roles))
    click.echo(f"key {info.key_id} ({info.holder}) now has roles {', '.join(info.roles)}")
