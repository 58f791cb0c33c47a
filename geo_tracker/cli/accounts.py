"""`geo-tracker users ...` and `geo-tracker tokens create`: accounts of the service."""

from __future__ import annotations

import click

from ..services import accounts
from .app import AppContext, cli, console, joined, role_word, say, table


@cli.group()
def users():
    """Accounts of the service: role (viewer, enforcer, liaison, admin) and admin units."""


@users.command("add")
@click.argument("username")
@click.option("--role", type=click.Choice(accounts.ROLES), required=True)
@click.option("--unit", "units", multiple=True, required=True,
              help="Admin unit code the user may see (repeat for several); * for all.")
@click.option("--name", "display_name", help="Name shown on pages, e.g. 张三.")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              envvar="GEO_TRACKER_NEW_PASSWORD", help="Prompted when not given.")
@click.pass_obj
def users_add(app: AppContext, username, role, units, display_name, password):
    """Add a user.

    Example:

        geo-tracker users add zhangsan --role enforcer --unit 500109001 --name 张三
    """
    with app.open_store() as store:
        user = accounts.add_user(store, username, password, role, units, display_name=display_name)
    click.echo(say("user.added", user=user["username"], role=role_word(user["role"]), units=joined(user["units"])))


@users.command("list")
@click.pass_obj
def users_list(app: AppContext):
    """List the users with their roles and units."""
    with app.open_store() as store:
        rows = accounts.list_users(store)
    listing = table("user", "display_name", "role", "units", "disabled")
    for u in rows:
        listing.add_row(u["username"], u["display_name"] or "", role_word(u["role"]), joined(u["units"]),
                        say("yes") if u["disabled"] else "")
    console().print(listing)


@users.command("disable")
@click.argument("username")
@click.option("--enable", is_flag=True, help="Enable the user again instead.")
@click.pass_obj
def users_disable(app: AppContext, username, enable):
    """Disable a user: their sessions end and their tokens stop working at once."""
    with app.open_store() as store:
        user = accounts.disable_user(store, username, disabled=not enable)
    click.echo(say("user.disabled" if user["disabled"] else "user.enabled", user=user["username"]))


@cli.group()
def tokens():
    """API tokens for scripts and GIS clients (Authorization: Bearer <token>)."""


@tokens.command("create")
@click.argument("username")
@click.option("--name", default="token", show_default=True, help="What the token is for.")
@click.option("--days", type=float, help="Expire after this many days (default: never).")
@click.pass_obj
def tokens_create(app: AppContext, username, name, days):
    """Create a token for USERNAME and print it (it is shown only this once).

    Example:

        geo-tracker tokens create zhangsan --name qgis --days 365
    """
    with app.open_store() as store:
        token = accounts.create_token(store, username, name, days=days)
    click.echo(token)
