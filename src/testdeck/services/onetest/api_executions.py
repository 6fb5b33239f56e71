"""Execution automation: query, start, stop one or many, status, advanced settings, container logs, results."""

from __future__ import annotations

import asyncio
from typing import Any

from testdeck.errors import ApiError
from testdeck.http import path
from testdeck.services.onetest.models import Execution, Result, rows

RESULT_FETCHES = 8  # results read at once when filling verdicts
RESULTS_PER_CALL = 50  # at most this many uncached results per list call (history is fetched on demand)
FINAL = ("COMPLETE", "COMPLETE_WITH_ERROR", "STOPPED_BY_USER", "STOPPED_AUTOMATICALLY", "INCOMPLETE", "LAUNCH_FAILED")

# filter keyword -> the document's query parameter
FILTERS = {
    "tag": "tag", "asset_type": "asset.externalType", "asset_id": "asset.id", "asset_path": "asset.path",
    "environment": "environment", "include": "include",
    "completion_after": "completionDateAfter", "completion_before": "completionDateBefore",
    "completion_not_set_or_after": "completionDateNotSetOrAfter",
    "scheduled_before": "scheduledDateBefore", "scheduled_after": "scheduledDateAfter",
}


def _joined(value: Any) -> Any:
    return ",".join(str(v) for v in value) if isinstance(value, (list, tuple, set)) else value


def _stop_params(stop_timeout_secs: int | None, execute_finally_block: bool | None,
                 capture_results: bool | None) -> dict[str, Any] | None:
    params: dict[str, Any] = {}
    if stop_timeout_secs is not None:
        params["stopTimeoutSecs"] = int(stop_timeout_secs)
    if execute_finally_block is not None:
        params["executeFinallyBlock"] = str(bool(execute_finally_block)).lower()
    if capture_results is not None:
        params["captureResults"] = str(bool(capture_results)).lower()
    return params or None


class ExecutionsApi:
    """Mixed into OneTest (which gives request, project, error)."""

    _verdicts: dict[tuple[str, str], str]

    def _executions(self, project_id: Any = None, method: str = "GET") -> str:
        return path("/rest/projects/{}/executions/", self.project(project_id, method))  # type: ignore[attr-defined]

    def _execution(self, execution_id: str, tail: str = "", project_id: Any = None, method: str = "GET") -> str:
        return self._executions(project_id, method) + path("{}", execution_id) + tail

    async def get_executions(self, status: str | list[str] | None = None, *, project_id: Any = None,
                             verdicts: bool = False, **filters: Any) -> list[Execution]:
        """GET /rest/projects/{projectId}/executions/ (server default: the active ones; "ALL" for every one).

        `filters` by keyword (FILTERS) or by the document's own query name; lists are comma-joined."""
        params = {"execution.status": _joined(status)}
        for key, value in filters.items():
            params[FILTERS.get(key, key)] = _joined(value)
        params = {k: v for k, v in params.items() if v not in (None, "")}
        payload = await self.request("GET", self._executions(project_id), params=params or None)  # type: ignore[attr-defined]
        found = await Execution.amany(rows(payload))
        if verdicts:
            await self.fill_verdicts(found, project_id)
        return found

    async def get_execution(self, execution_id: str, *, include: str | None = None, project_id: Any = None,
                            verdict: bool = False) -> Execution:
        params = {"include": include} if include else None
        found = Execution.from_api(await self.request("GET", self._execution(execution_id, project_id=project_id),  # type: ignore[attr-defined]
                                                      params=params))
        if verdict:
            await self.fill_verdicts([found], project_id)
        return found

    async def start_execution(self, spec: dict[str, Any], *, project_id: Any = None) -> Execution:
        """POST /rest/projects/{projectId}/executions/ with an ExecutionSpecification.

        The offline token the document wants in the body is the profile's secret, added here."""
        body = {k: v for k, v in spec.items() if v not in (None, "", [], {})}
        body["offlineToken"] = self._secret or ""  # type: ignore[attr-defined]
        created = await self.request("POST", self._executions(project_id, "POST"), json_body=body)  # type: ignore[attr-defined]
        return Execution.from_api(created if isinstance(created, dict) else {})

    async def stop_execution(self, execution_id: str, *, stop_timeout_secs: int | None = None,
                             execute_finally_block: bool | None = None, capture_results: bool | None = None,
                             project_id: Any = None) -> None:
        """DELETE .../executions/{executionId}: stop an active one, cancel a scheduled one (202)."""
        await self.request("DELETE", self._execution(execution_id, project_id=project_id, method="DELETE"),  # type: ignore[attr-defined]
                           params=_stop_params(stop_timeout_secs, execute_finally_block, capture_results),
                           expect="none")

    async def stop_executions(self, execution_ids: list[str], *, stop_timeout_secs: int | None = None,
                              execute_finally_block: bool | None = None, capture_results: bool | None = None,
                              project_id: Any = None) -> str:
        """PATCH .../executions/ with the ids: one request stops them all (202); 422 names the ones not found."""
        return await self.request("PATCH", self._executions(project_id, "PATCH"), json_body=list(execution_ids),  # type: ignore[attr-defined]
                                  params=_stop_params(stop_timeout_secs, execute_finally_block, capture_results),
                                  expect="text")

    async def update_execution_status(self, execution_id: str, status: str, message: str | None = None, *,
                                      project_id: Any = None) -> None:
        """PATCH .../{executionId}/status (internal use in the document; kept for protocol implementors)."""
        await self.request("PATCH", self._execution(execution_id, "/status", project_id, "PATCH"),  # type: ignore[attr-defined]
                           json_body={"status": status, "message": message}, expect="none")

    async def get_advanced_configurations(self, execution_id: str, *, project_id: Any = None) -> dict[str, Any]:
        payload = await self.request("GET", self._execution(execution_id, "/advancedSettings/configurations",  # type: ignore[attr-defined]
                                                            project_id))
        return payload if isinstance(payload, dict) else {}

    async def update_advanced_configurations(self, execution_id: str, configurations: dict[str, Any], *,
                                             project_id: Any = None) -> None:
        """PATCH all configurations (updates or creates each one given; may restart the execution)."""
        await self.request("PATCH", self._execution(execution_id, "/advancedSettings/configurations",  # type: ignore[attr-defined]
                                                    project_id, "PATCH"), json_body=configurations, expect="none")

    async def set_advanced_configuration(self, execution_id: str, name: str, value: Any, *,
                                         project_id: Any = None) -> None:
        tail = path("/advancedSettings/configurations/{}/", name)
        await self.request("PATCH", self._execution(execution_id, tail, project_id, "PATCH"),  # type: ignore[attr-defined]
                           json_body={"value": value}, expect="none")

    async def get_execution_log(self, execution_id: str, *, init_container: bool = False,
                                project_id: Any = None) -> str:
        """The container log (text/plain); 410 once the server dropped it."""
        params = {"initContainer": "true"} if init_container else None
        return await self.request("GET", self._execution(execution_id, "/log", project_id),  # type: ignore[attr-defined]
                                  params=params, expect="text")

    async def get_result(self, result_id: str, *, project_id: Any = None) -> Result:
        """GET /rest/projects/{projectId}/results/{resultId}: {verdict, message, reports}."""
        where = path("/rest/projects/{}/results/{}", self.project(project_id), result_id)  # type: ignore[attr-defined]
        return Result.from_api(await self.request("GET", where))  # type: ignore[attr-defined]

    async def fill_verdicts(self, executions: list[Execution], project_id: Any = None) -> None:
        """Set `verdict` on finished executions; a finished result never changes, so it is cached.

        A result that cannot be read leaves the verdict empty: the list itself stays good."""
        if not hasattr(self, "_verdicts"):
            self._verdicts = {}
        project = self.project(project_id)  # type: ignore[attr-defined]
        todo = []
        for ex in executions:
            if ex.status not in FINAL or not ex.result_id:
                continue
            cached = self._verdicts.get((project, ex.result_id))
            if cached is not None:
                ex.verdict = cached
            elif len(todo) < RESULTS_PER_CALL:
                todo.append(ex)
        gate = asyncio.Semaphore(RESULT_FETCHES)

        async def one(ex: Execution) -> None:
            async with gate:
                try:
                    result = await self.get_result(ex.result_id, project_id=project)
                except ApiError:
                    return
            ex.verdict = result.verdict
            if result.verdict:
                self._verdicts[(project, ex.result_id)] = result.verdict

        await asyncio.gather(*(one(ex) for ex in todo))
