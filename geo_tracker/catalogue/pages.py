"""Messages of the pages themselves (not of a service): key -> Entry."""

from . import Entry

MESSAGES: dict[str, Entry] = {
    "page.not_found": Entry(zh="没有这个页面", en="no such page",
                            hints={"web": ("请从上方菜单进入", "use the menu above")}),
}
