"""The docker host form: the generic form plus "test connection" before saving (ctrl+o)."""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.binding import Binding
from textual.widgets import Static

from testdeck.errors import ApiError
from testdeck.text import sanitize
from testdeck.widgets.form import FormScreen, validate_values


class DockerHostForm(FormScreen):
    BINDINGS = [Binding("ctrl+o", "test_connection", "test connection", priority=True)]

    def action_test_connection(self) -> None:
        values, errors = validate_values(self.form.fields, self.raw_values())
        for f in self.form.fields:
            self._error(f.name, errors.get(f.name, ""))
        status = self.query_one("#server-error", Static)
        if errors:  # named, and the first shown, as ctrl+s does
            bad = [f for f in self.form.fields if f.name in errors]
            status.update(Text(sanitize(f"before a connection test, {len(bad)} field(s) need attention: "
                                        + ", ".join(f.title for f in bad))))
            self._show_field(bad[0])
            return
        self._test(values)

    @work(exit_on_error=False, exclusive=True, group="test-connection")
    async def _test(self, values: dict) -> None:
        from testdeck.services.onetest.views_hosts import docker_body, status_line

        status = self.query_one("#server-error", Static)
        status.update(Text("testing the connection…"))
        try:
            result = await self.ctx.client.test_dockerhost_connection(docker_body(values))
        except ApiError as exc:
            status.update(Text(sanitize(f"connection test failed: {exc.message}")))
            return
        self.tested = result
        # the server's reason is hostile text until proven otherwise
        status.update(Text(sanitize("connection test: " + status_line(result))))
