"""`P`: the scope (a OneTest or kyaraben project) a resource lists, chosen once per profile and kept."""

from __future__ import annotations

from textual import work

from testdeck.errors import ApiError
from testdeck.widgets.table import TableData
from testdeck.widgets.titlebar import TitleBar


class ScopeMixin:
    """ResourceScreen's scope: the choice is kept in session.views under the scope's name, so every
    resource of the profile with that scope opens on it."""

    def sticky_scope(self) -> str | None:
        """The scope chosen last for any resource of this profile with the same scope name."""
        if self.resource.scope is None:
            return None
        scope = self.resource.scope
        return self.session.views.get(f"scope:{scope.name}") or scope.default_for(self.session.profile.fields)

    def set_sticky_scope(self, scope_id: str, label: str | None = None) -> None:
        if self.resource.scope is None:
            return
        self.session.views[f"scope:{self.resource.scope.name}"] = scope_id
        self.session.views[f"scope:{self.resource.name}"] = scope_id  # (read by older tests and screens)
        if label:
            self.session.views[f"scope-label:{scope_id}"] = label

    @work(exit_on_error=False, group="ui")
    async def action_pick_scope(self) -> None:
        scope = self.resource.scope
        if scope is None:
            self.notify("this resource is not inside anything", timeout=2)
            return
        try:
            options = await scope.options(self.ctx())
        except ApiError as exc:
            self._mark_stale(exc)
            return
        if not options:
            self._info(f"no {scope.name} to choose from: create one first")
            return
        from testdeck.screens.pickers import ScopePicker

        chosen = await self.app.push_screen_wait(ScopePicker(f"choose a {scope.name} for {self.resource.title.lower()}",
                                                             options))
        if chosen:
            self.scope = chosen
            self.set_sticky_scope(chosen, dict(options).get(chosen, ""))
            if scope.remember is not None:
                try:
                    scope.remember(self.app.config, self.session.profile, chosen)
                except Exception as exc:  # the choice still holds for this session
                    self.notify(f"could not save the choice: {exc}", severity="warning", markup=False)
            self.query_one(TitleBar).update(self._title())
            self.rows, self.records, self.last_ok = [], {}, None
            self.marks.clear()
            self.table.set_data(TableData([c.heading for c in self.resource.columns]))
            self.table.empty_text = "loading…"
            self._wake.set()
