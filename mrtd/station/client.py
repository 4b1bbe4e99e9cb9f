"""The service's v1 API as a station uses it (httpx). A problem answer becomes a `ServiceError` carrying
the status and the problem's detail."""

from __future__ import annotations

import base64
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from mrtd.errors import MrtdError


class ServiceError(MrtdError):
    def __init__(self, status: int, detail: str, rule: str = "") -> None:
        self.status = status
        self.rule = rule
        super().__init__(f"service answered {status}: {detail}")


@dataclass(frozen=True)
class Job:
    id: int
    attempt: int
    number: str
    chip_profile: str
    can: str | None
    files: dict[str, bytes] = field(repr=False)
    keys: str = field(repr=False)
    key_info: str = ""
    page: dict[str, bytes] = field(default_factory=dict, repr=False)
    receipt: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Job:
        def unpack(files: Mapping[str, str]) -> dict[str, bytes]:
            return {k: base64.b64decode(v) for k, v in files.items()}

        return cls(int(data["job"]), int(data["attempt"]), str(data["number"]), str(data["chip_profile"]),
                   data.get("can"), unpack(data["files"]), str(data["keys"]), str(data["key_info"]),
                   unpack(data["page"]), dict(data["receipt"]))


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


class Service:
    def __init__(self, url: str, token: str, *, timeout: float = 60.0, ca_file: str | None = None) -> None:
        verify: bool | ssl.SSLContext = ssl.create_default_context(cafile=ca_file) if ca_file else True
        self.http = httpx.Client(base_url=url.rstrip("/"), timeout=timeout, verify=verify,
                                 headers={"Authorization": f"Bearer {token}"})

    def close(self) -> None:
        self.http.close()

    def _post(self, path: str, body: Mapping[str, Any] | None = None) -> httpx.Response:
        try:
            response = self.http.post(path, json=body if body is not None else {})
        except httpx.HTTPError as exc:
            raise ServiceError(0, f"cannot reach the service: {exc}") from None
        if response.status_code >= 400:
            try:
                problem = response.json()
                raise ServiceError(response.status_code, str(problem.get("detail", "")), str(problem.get("rule", "")))
            except ValueError:
                raise ServiceError(response.status_code, response.text[:200]) from None
        return response

    def claim(self, name: str, formats: list[str], public_key: str) -> Job | None:
        response = self._post(f"/v1/stations/{name}/claim", {"formats": formats, "public_key": public_key})
        return None if response.status_code == 204 else Job.from_json(response.json())

    def heartbeat(self, job: int) -> str:
        return str(self._post(f"/v1/jobs/{job}/heartbeat").json()["lease_expires_at"])

    def result(self, job: int, report: Mapping[str, Any] | None, files: Mapping[str, bytes],
               print_check: Mapping[str, str] | None, reader: str) -> dict[str, Any]:
        body: dict[str, Any] = {"print_check": dict(print_check) if print_check else None, "chip": None}
        if report is not None:
            body["chip"] = {"report": dict(report), "files": {k: _b64(v) for k, v in files.items()}, "reader": reader}
        outcome: dict[str, Any] = self._post(f"/v1/jobs/{job}/result", body).json()
        return outcome
