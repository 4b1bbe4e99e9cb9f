"""`mrtd serve` (the HTTP service) and `mrtd station run` (a personalisation station)."""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from pathlib import Path

import click

from mrtd.cli._common import guarded, secret_file_option, site_option


def _bind(value: str) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise click.BadParameter(f"{value!r} is not HOST:PORT", param_hint="--bind")
    return host.strip("[]"), int(port)


@click.command("serve")
@site_option
@click.option("--bind", default="127.0.0.1:8080", show_default=True, help="HOST:PORT to listen on.")
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True, help="Worker processes.")
@click.option("--tls-cert", type=click.Path(exists=True, dir_okay=False), default=None, help="Serve HTTPS: certificate (PEM).")
@click.option("--tls-key", type=click.Path(exists=True, dir_okay=False), default=None, help="Serve HTTPS: its key (PEM).")
@click.option("--lease-seconds", type=click.FloatRange(1, 3600), default=60.0, show_default=True,
              help="How long a station holds a job without a heartbeat.")
@click.option("--verify-rate", type=click.FloatRange(0.1, 10000), default=5.0, show_default=True,
              help="Seal verifications per second per client (burst of 20).")
@click.option("--print-check/--no-print-check", "print_check", default=None,
              help="OCR each produced page (default: the site's setting).")
@secret_file_option
@guarded
def serve(site: Path, bind: str, workers: int, tls_cert: str | None, tls_key: str | None, lease_seconds: float,
          verify_rate: float, print_check: bool | None, secret_files: tuple[str, ...]) -> None:
    """Serve the site's HTTP API (OpenAPI at /openapi.json, docs at /docs, /healthz, /metrics), the office's
    web pages (/sign-in) and the public seal verifier (/verify/)."""
    import uvicorn

    from mrtd.cli.issue import _signing_secrets, load_site_config
    from mrtd.pki.keys import secret_env

    if bool(tls_cert) != bool(tls_key):
        raise click.UsageError("--tls-cert and --tls-key go together")
    host, port = _bind(bind)
    config = load_site_config(site, None, print_check)
    secrets = _signing_secrets(config, secret_files)
    tls = {"ssl_certfile": tls_cert, "ssl_keyfile": tls_key} if tls_cert else {}
    scheme = "https" if tls_cert else "http"
    click.echo(f"serving {config.root} ({config.records_url.split(':', 1)[0]}) on {scheme}://{host}:{port} "
               f"with {workers} worker(s)", err=True)
    if workers == 1:
        from mrtd.issuance.office import Office
        from mrtd.service import pages
        from mrtd.service.app import create_app

        office = Office(config, clock=lambda: dt.datetime.now(dt.UTC), secrets=secrets,
                        lease_seconds=lease_seconds, print_check=print_check)
        try:
            uvicorn.run(create_app(office, verify_rate=verify_rate, routers=pages.routers()), host=host, port=port, log_level="warning",
                        access_log=False, **tls)  # type: ignore[arg-type]
        finally:
            office.close()
        return
    # Worker processes are started afresh by uvicorn: the site and the keys' secrets reach them through the
    # environment of this process (the secrets' documented channel), never argv.
    pki = config.pki(clock=lambda: dt.datetime.now(dt.UTC))
    os.environ.update({secret_env(role, pki.key_in_token(role)): value.decode("utf-8") for role, value in secrets.items()})
    os.environ.update({"MRTD_SITE": str(config.root),
                       "MRTD_RECORDS_URL": config.records_url, "MRTD_LEASE_SECONDS": str(lease_seconds),
                       "MRTD_VERIFY_RATE": str(verify_rate)})
    if print_check is not None:
        os.environ["MRTD_PRINT_CHECK"] = "1" if print_check else "0"
    with tempfile.TemporaryDirectory(prefix="mrtd-metrics-") as metrics_dir:
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
        uvicorn.run("mrtd.service.app:app_from_environment", factory=True, host=host, port=port, workers=workers,
                    log_level="warning", access_log=False, **tls)  # type: ignore[arg-type]


@click.group("station")
def station() -> None:
    """Personalisation stations: claim jobs from the service, write the chip, print the page, report."""


@station.command("run")
@click.option("--service", "service_url", required=True, envvar="MRTD_SERVICE", help="The service's URL.")
@click.option("--name", required=True, help="The station's user name (role station).")
@click.option("--token-file", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True,
              help="File holding the station's token (`mrtd users token NAME --out F`).")
@click.option("--key-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="The station's X25519 key (made on first use; default: beside the token file).")
@click.option("--reader", default=None, envvar="MRTD_READER", help="PC/SC reader (default: the chip simulator in process).")
@click.option("--printer", default=None, help="CUPS printer for the page (lp -d).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Write each page (and chip files, receipt) into OUT/<number>/ instead of printing.")
@click.option("--formats", default="TD1,TD2,TD3,MRV-A,MRV-B", show_default=True, help="Formats this station makes.")
@click.option("--ca-file", type=click.Path(exists=True, dir_okay=False), default=None,
              help="CA certificate to check an HTTPS service with (default: the system's).")
@click.option("--device-seconds", type=click.FloatRange(0, 600), default=0.0,
              help="Make each job take at least this long (a simulated device, for benchmarks).")
@click.option("--max-jobs", type=click.IntRange(1), default=None, help="Stop after this many jobs.")
@click.option("--idle-exit", type=click.FloatRange(0), default=None, help="Stop after this many seconds without a job.")
@click.option("--poll", type=click.FloatRange(0.05, 60), default=2.0, show_default=True, help="Seconds between claims when idle.")
@click.option("--heartbeat", type=click.FloatRange(0.2, 600), default=15.0, show_default=True, help="Seconds between heartbeats.")
@guarded
def station_run(service_url: str, name: str, token_file: Path, key_file: Path | None, reader: str | None,
                printer: str | None, out: Path | None, formats: str, ca_file: str | None, device_seconds: float,
                max_jobs: int | None, idle_exit: float | None, poll: float, heartbeat: float) -> None:
    """Run the station loop, with a status line, until stopped (Ctrl-C)."""
    import sys

    from mrtd.chip.keytransport import load_or_create_station_key
    from mrtd.station.client import Service
    from mrtd.station.run import StationConfig, run

    if printer and out:
        raise click.UsageError("give --printer or --out, not both")
    token = token_file.read_text("ascii").strip()
    key = load_or_create_station_key(key_file or token_file.with_name(f"{name}.station-key.pem"))
    config = StationConfig(name=name, formats=[f.strip() for f in formats.split(",") if f.strip()], reader=reader,
                           printer=printer, out=out, device_seconds=device_seconds, poll_seconds=poll,
                           heartbeat_seconds=heartbeat)
    tty = sys.stderr.isatty()

    def status(line: str) -> None:
        click.echo(("\r\x1b[K" + line) if tty else line, err=True, nl=not tty)

    service = Service(service_url, token, ca_file=ca_file)
    try:
        tally = run(config, service, key, max_jobs=max_jobs, idle_exit=idle_exit, status=status)
    except KeyboardInterrupt:
        click.echo("", err=True)
        return
    finally:
        service.close()
    click.echo(("\n" if tty else "") + tally.line(name), err=True)
