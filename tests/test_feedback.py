"""Written feedback notices: one per assessed person, rectification only for 一般/差,
each unit's bundle holding only its own people, HR's edited template used."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import docx
import pytest

from pipeline.demo import run_demo
from pipeline.models import Period
from pipeline.stages.feedback import write_feedback
from pipeline.workspace import Workspace

Q4 = Period(year=2026, quarter=4)
RECTIFY = "请你针对存在的问题认真查找原因"


def text(data: bytes) -> str:
    return "\n".join(p.text for p in docx.Document(io.BytesIO(data)).paragraphs)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    from pipeline.workspace import init_workspace

    workspace = init_workspace(tmp_path_factory.mktemp("fb") / "ws").workspace
    run_demo(workspace, Q4)
    return workspace


def test_notices_per_assessed_person_and_unit_bundles(demo: Workspace) -> None:
    result = write_feedback(demo, Q4)
    assert (
        len(result.notices) == 12
    )  # the demo's assessed people (two of them on scanned paper); the missing and the pending get none
    with zipfile.ZipFile(demo.root / result.bundles["综合行政执法队"]) as bundle:
        names = bundle.namelist()
        assert all(n.split("_")[0] in {"0007", "0008", "0009", "0010"} for n in names)
        zhang = text(bundle.read("0007_张伟_2026Q4_考核结果反馈.docx"))
    assert "你2026年第4季度的平时考核结果为：“一般”。" in zhang
    assert RECTIFY in zhang and "分管领导意见：工作完成一般，需加强。" in zhang
    with zipfile.ZipFile(demo.root / result.bundles["城区分局"]) as bundle:
        assert {n.split("_")[0] for n in bundle.namelist()} == {"0001", "0002", "0003"}
        li = text(bundle.read("0002_李娜_2026Q4_考核结果反馈.docx"))
    assert "结果为：“好”" in li and RECTIFY not in li
    dilinur = next(Path(demo.root / n) for n in result.notices if "/0006_" in n)
    assert "不定等次（请假超过规定天数）" in text(dilinur.read_bytes())


def test_one_unit_only_and_hr_template(demo: Workspace) -> None:
    template = demo.templates / "考核结果反馈通知.docx"
    original = template.read_bytes()
    document = docx.Document(str(template))
    document.add_paragraph("联系人：人事科 王敏")
    document.save(str(template))
    try:
        result = write_feedback(demo, Q4, unit="办公室")
        assert list(result.bundles) == ["办公室"]
        assert [n.split("/")[-1] for n in result.notices] == [
            "0011_郑丽_2026Q4_考核结果反馈.docx",
            "0013_韩雪_2026Q4_考核结果反馈.docx",
        ]
        assert all(
            "联系人：人事科 王敏" in text((demo.root / n).read_bytes()) for n in result.notices
        )
    finally:
        template.write_bytes(original)
