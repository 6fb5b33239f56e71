"""Resource actions on ResourceScreen: keys to actions, forms, confirmations that name the record
and the profile, the toast that names it, and what follows (a result, a log, a screen).

A mixin: ResourceScreen (screens/resource.py) is the screen; bulk runs are in screens/bulk.py."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from msgspec.structs import replace
from textual import work

from testdeck.errors import ApiError, not_done
from testdeck.records import Record
from testdeck.resources import Accepted, Action, Ctx, confirm_question, run, unwrap
from testdeck.text import quoted, sanitize

if TYPE_CHECKING:
    from testdeck.widgets.form import FormScreen
# forms and dialogs (TextArea, checklists, ...) are imported when first opened, not at start-up


class ActionsMixin:
    """The resource's own actions for ResourceScreen."""

    # --- resource actions ---------------------------------------------------------
    def action_act(self, label: str) -> None:
        action = self.resource.action(label)
        if action is None:
            return
        if not self._scoped():
            self.notify(f"{label}: no {self.resource.scope.name} chosen: press P first", severity="warning",
                        markup=False)
            return
        if action.mutates and self.session.read_only:
            self.notify(f"{label}: refused, testdeck runs read-only", severity="error", markup=False)
            return
        if action.bulk and self.marks:
            from testdeck.screens.bulk import run_bulk

            run_bulk(self, action)  # (rows a rule known here refuses are named there, and not sent)
            return
        if self.marks and action.row and action.mutates and action.targets is None:
            # marked rows say what the user means: acting on the row under the cursor instead (a
            # delete that named another agent than the two marked) is never what they asked for
            self.notify(f"{label} acts on one row, not the {len(self.marks)} marked: esc clears the marks, "
                        "then put the cursor on the row", severity="warning", markup=False, timeout=6)
            return
        record = self.selected()
        if action.row and record is None:
            self.notify(f"{label}: select a row first", severity="warning", timeout=2)
            return
        why = action.why_not(self.ctx(record if action.row else None))
        if why:  # a rule known here (a finished job, a project's limits) refuses before asking or sending,
            # and never counts against the server
            self.notify(sanitize(f"{label} {self._named(self.ctx(record)) if record is not None else ''}".rstrip()
                                 + f": not sent: {why}"), severity="warning", markup=False, timeout=6)
            return
        # keys typed from now until the form is ready wait for it (widgets/typeahead.py); the hold
        # starts with the key that opens the form, before any later key of a burst is dispatched
        hold = self.app.hold_keys() if action.form is not None and hasattr(self.app, "hold_keys") else None
        opening: list[FormScreen] = []
        worker = self._run_action(action, self.ctx(record if action.row else None), hold, opening)
        if hold is not None:

            def abandon() -> None:  # esc among the held keys: give up opening the form
                if opening and opening[0].is_current:
                    opening[0].dismiss(None)
                else:
                    worker.cancel()

            hold.on_escape = abandon

    @work(exit_on_error=False, group="ui")
    async def _run_action(self, action: Action, ctx: Ctx, hold: Any = None, opening: list | None = None) -> None:
        confirm = self._confirmer(action, ctx) if action.confirm else None
        if action.form is not None:
            try:
                result = await self._run_form(action, ctx, confirm, hold.release if hold else None,
                                              opening if opening is not None else [])
            finally:
                if hold is not None:
                    hold.release(replay=False)  # the form never got ready: drop the keys, never misroute
            if result is None:
                return
        else:
            if confirm is not None and not await confirm():
                return
            self.busy = f"{action.label} {self._named(ctx, action)}".strip()
            try:
                result = await run(action, ctx)
            except ApiError as exc:  # the status and whether it may have acted, as a form says it
                self.notify(not_done(exc),
                            title=f"{action.label} {self._named(ctx, action)} failed".replace("  ", " "),
                            severity="error", markup=False, timeout=8)
                return
            finally:
                self.busy = None
                self._update_status()
        await self._after(action, ctx, result)

    async def _run_form(self, action: Action, ctx: Ctx, confirm: Any, on_ready: Any, opening: list) -> Any:
        assert action.form is not None
        from testdeck.widgets.form import FormScreen, submit_label

        if action.form.initial is not None:
            try:
                initial = await action.form.initial(ctx)
            except ApiError as exc:
                self.notify(exc.message, title=action.label, severity="error", markup=False)
                return None
        else:
            names = {f.name for f in action.form.fields}
            initial = {k: v for k, v in ctx.row.raw.items() if k in names} if ctx.row else {}
        form: FormScreen | None = None

        async def submit(values: dict, changed: dict) -> Any:
            ctx.values, ctx.changed = values, changed
            ctx.progress = form.report_progress if form is not None else None
            return await run(action, ctx)  # journaled as what the user asked for

        screen_class = action.form.screen() if action.form.screen is not None else FormScreen
        spec = action.form
        if ctx.row is not None:  # which record it acts on, in its title: run-now has no question after it
            spec = replace(spec, title=f"{spec.title} · {self._named(ctx, action)}")
        # a confirmed action with a form asks after the form validates, before anything is sent
        form = screen_class(spec, ctx, initial, submit, upload=action.upload,
                            submit_label=submit_label(action.label), confirm=confirm, on_ready=on_ready)
        opening.append(form)
        return await self.app.push_screen_wait(form)

    def _confirmer(self, action: Action, ctx: Ctx) -> Callable[[], Any]:
        """Ask before a confirmed action runs: straight away, or after its form validates."""

        async def ask() -> bool:
            from testdeck.widgets.dialogs import ConfirmScreen
            from testdeck.widgets.form import submit_label

            rows = action.targets(ctx) if action.targets is not None else [ctx.row]
            return bool(await self.app.push_screen_wait(
                ConfirmScreen(self.confirm_question(action, rows, ctx), submit_label(action.label))))

        return ask

    def _noun(self) -> str:
        title = self.resource.title.lower()
        return title[:-1] if title.endswith("s") else title

    def _named(self, ctx: Ctx, action: Action | None = None) -> str:
        """How a toast names the record: the noun and its label ("alert 'Disk full'"); for an action
        that takes several in one call (Action.targets: OneTest's stop), those ("3 executions")."""
        targets = [r for r in action.targets(ctx) if r is not None] if action and action.targets else None
        if targets is not None and len(targets) != 1:
            return f"{len(targets)} {self.resource.title.lower()}"
        if targets:
            return f"{self._noun()} {quoted(self.resource.row_label(targets[0]))}"
        if ctx.row is not None:
            return f"{self._noun()} {quoted(self.resource.row_label(ctx.row))}"
        named = ctx.values.get(self.resource.label) if self.resource.label else None
        return f"{self._noun()} {quoted(named)}" if named else self._noun()

    def confirm_question(self, action: Action, rows: list[Record | None], ctx: Ctx | None = None) -> str:
        return confirm_question(self.resource, action, rows, self.session.profile, ctx)

    async def _after(self, action: Action, ctx: Ctx, result: Any) -> None:
        accepted = result.state if isinstance(result, Accepted) else None
        result = unwrap(result)
        if action.select is not None:
            self._select = action.select(result)
        if action.refresh:
            self._reload()
        if action.mutates and action.targets is not None:  # the marked rows it took are done with
            self.marks.difference_update(self.resource.row_key(r) for r in action.targets(ctx) if r is not None)
            self.table.refresh()
        if action.mutates:
            # a followed action was only accepted: how it ends shows in the log or the screen that
            # follows it (B27; XPRESSO's submit opens the request's own screen)
            outcome = "accepted, following it" if action.followed else "done"
            if accepted is not None:  # the server makes the change in the background (a VM left DELETING)
                outcome = f"accepted: {accepted}"
            self.notify(sanitize(f"{action.label} {self._named(ctx, action)}: {outcome}"),
                        timeout=3 if accepted is None else 6, markup=False)
            self.session.status_at = 0.0  # a mutation may change the quota: ask again
            self._wake.set()
        if action.show is not None:
            from testdeck.widgets.dialogs import TextScreen

            await self.app.push_screen(TextScreen(f"{action.label} · {self._named(ctx, action)}", action.show(result)))
        elif action.follow is not None:
            from testdeck.screens.log import LogScreen

            await self.app.push_screen(LogScreen(f"{action.label} · {self._named(ctx, action)}", action.follow(ctx, result),
                                                 line_cap=self.app.config.log_line_cap))
        elif action.screen is not None:
            await self.app.push_screen(action.screen(ctx, result))
