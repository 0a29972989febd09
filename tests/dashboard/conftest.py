"""Running the dashboard in Streamlit's AppTest against an exports folder."""

from collections.abc import Iterator
from io import BytesIO
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pytest
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest

REPO = Path(__file__).resolve().parents[2]
APP = REPO / "dashboard" / "app.py"
PAGES = ["views/overview.py", "views/segments.py", "views/root_causes.py",
         "views/corrective_actions.py", "views/experiments.py", "views/data_quality.py"]


def run_app(data_dir: Path, monkeypatch: pytest.MonkeyPatch, page: str | None = None,
            params: dict[str, Any] | None = None) -> AppTest:
    """The app's first run in a new session (as a link opens it) on `page`."""
    monkeypatch.setenv("SAYPRO_DATA_DIR", str(data_dir))
    at = AppTest.from_file(str(APP), default_timeout=120)
    if page:
        at.switch_page(page)
    at.query_params.update(params or {})
    return at.run()


def chart_data(at: AppTest) -> list[pd.DataFrame]:
    """The data of every Vega-Lite chart on the page, as sent to the browser (Arrow)."""
    frames = []
    for chart in at.get("vega_lite_chart"):
        arrow = [chart.proto.data] if chart.proto.HasField("data") else []
        arrow += [named.data for named in chart.proto.datasets]
        frames += [pa.ipc.open_stream(BytesIO(a.data)).read_pandas() for a in arrow if a.data]
    return frames


@pytest.fixture(scope="session")
def demo_dir(demo_run: tuple[Path, str]) -> Path:
    """The data dir of the session's `saypro demo --scale 0.3`, with its exports."""
    return demo_run[0]


@pytest.fixture
def downloads(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, bytes]]:
    """File name -> bytes of every download button the app renders."""
    captured: dict[str, bytes] = {}
    original = MemoryMediaFileStorage.load_and_get_id

    def capture(self: MemoryMediaFileStorage, path_or_data: str | bytes, mimetype: str,
                kind: Any, filename: str | None = None) -> str:
        if filename and isinstance(path_or_data, bytes):
            captured[filename] = path_or_data
        return original(self, path_or_data, mimetype, kind, filename)

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", capture)
    yield captured
