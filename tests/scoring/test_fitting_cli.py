"""The analysts' command line: ``python -m scoring.fitting fit --csv ...`` (in-process
through ``main``, and once as a real process, without Django)."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from scoring.fitting import ColumnSpec, fit, main, selection_ratio

ROOT = Path(__file__).resolve().parents[2]
REGIONS = ["r1", "r2", "r3", "r4", "r5", "r6"]
LAST_LINE = re.compile(r"^fit: train AUC (\d\.\d{3}); test AUC (\d\.\d{3}); KS (\d\.\d{3})$")


def loans(rows: int, seed: int) -> pd.DataFrame:
    """Applicants: income (more is better, sometimes unknown), a region (three of six
    riskier), late payments (a registry fact), sex (women earning less here: a
    disparity the audit must show) and age (predictive, and protected)."""
    rng = np.random.default_rng(seed)
    sex = rng.choice(["f", "m"], rows)
    income = np.round(rng.normal(np.where(sex == "f", 40, 60), 12), 1)
    region = rng.choice(REGIONS, rows)
    late = rng.poisson(0.7, rows)
    age = rng.integers(18, 80, rows)
    logit = (
        -1.4
        - 0.05 * (income - 50)
        + 0.5 * np.minimum(late, 3)
        + np.where(np.isin(region, ["r1", "r2", "r3"]), 0.7, 0.0)
        - 0.04 * (age - 45)
    )
    bad = rng.random(rows) < 1 / (1 + np.exp(-logit))
    frame = pd.DataFrame(
        {
            "income": income,
            "region": region,
            "late_payments_24m": late,
            "sex": sex,
            "age": age,
            "defaulted": np.where(bad, "yes", "no"),
        }
    )
    frame.loc[rng.random(rows) < 0.05, "income"] = np.nan
    return frame


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("loans")
    paths = {"train": folder / "train.csv", "test": folder / "test.csv"}
    loans(4_000, 1).to_csv(paths["train"], index=False)
    loans(3_000, 2).to_csv(paths["test"], index=False)
    return paths


def run(capsys, *arguments) -> tuple[int, list[str], str]:
    code = main([str(a) for a in arguments])
    captured = capsys.readouterr()
    return code, captured.out.splitlines(), captured.err


def column_lines(lines: list[str], name: str) -> list[str]:
    """The lines of one column's bins (after its header, indented)."""
    start = next(i for i, line in enumerate(lines) if line.startswith(f"{name} (IV "))
    block = []
    for line in lines[start + 1 :]:
        if not line.startswith("  "):
            break
        block.append(line.strip())
    return block


FIT = ("fit", "--target", "defaulted", "--bad", "yes", "--categorical", "region")


def test_a_fit_prints_bins_figures_audit_and_the_last_line(capsys, files, tmp_path):
    # When an analyst fits without age, audits by sex and writes the model out
    out = tmp_path / "model.json"
    code, lines, err = run(
        capsys,
        *FIT,
        "--csv", files["train"],
        "--test-csv", files["test"],
        "--exclude", "age",
        "--audit", "sex",
        "--out", out,
    )  # fmt: skip
    assert (code, err) == (0, "")
    # Then each column's bins and points are printed
    income = column_lines(lines, "income")
    assert income[0].startswith("from ")
    assert income[-1].startswith("missing: ")
    late = column_lines(lines, "late_payments_24m")
    assert late[0].startswith("from 0: ")
    assert re.fullmatch(r"from 0: \+\d+ points \(\d+ rows, bad rate \d+\.\d%\)", late[0])
    # the figures of the train and the test file
    train_line = next(line for line in lines if line.startswith("train: AUC "))
    test_line = next(line for line in lines if line.startswith("test: AUC "))
    assert "(4000 rows, " in train_line
    assert "(3000 rows, " in test_line
    # the audit just before the last line, and the last line with the same figures
    match = LAST_LINE.match(lines[-1])
    assert match is not None
    assert f"AUC {match[1]}," in train_line
    assert f"AUC {match[2]}," in test_line
    assert f"KS {match[3]} " in test_line
    assert lines[-2].startswith("audit: sex ratio ")
    # the audit's ratio is the selection ratio of the fitted model on the test file
    train, test = pd.read_csv(files["train"]), pd.read_csv(files["test"])
    columns = [
        ColumnSpec("income"),
        ColumnSpec("region", categorical=True),
        ColumnSpec.from_fact("late_payments_24m"),
    ]
    model = fit(train, (train["defaulted"] == "yes").to_numpy(), columns)
    ratio, rates = selection_ratio(model.score(test), test["sex"].tolist(), approval=0.7)
    assert lines[-2] == f"audit: sex ratio {ratio:.3f}"
    # (the planted disparity: women, earning less here, are approved less often)
    assert ratio < 0.8
    assert rates["f"] < rates["m"]
    # and the JSON says the same model
    said = json.loads(out.read_text())
    assert said == json.loads(json.dumps(model.as_json()))
    assert [c["name"] for c in said["columns"]] == ["income", "region", "late_payments_24m"]
    late_json = said["columns"][2]
    assert late_json["bins"][0]["from"] == 0
    assert f"from 0: {late_json['bins'][0]['points']:+d} points" in late[0]
    assert "missing_points" in said["columns"][0]
    assert all("categories" in b for b in said["columns"][1]["bins"])


def test_an_audit_without_disparity_is_near_one(capsys, files, tmp_path):
    # A column unrelated to anything (whether the row number is even) is audited too
    frame = pd.read_csv(files["test"])
    frame["parity"] = np.where(np.arange(len(frame)) % 2 == 0, "even", "odd")
    test = tmp_path / "test.csv"
    frame.to_csv(test, index=False)
    train = pd.read_csv(files["train"])
    train["parity"] = np.where(np.arange(len(train)) % 2 == 0, "even", "odd")
    train.to_csv(tmp_path / "train.csv", index=False)
    code, lines, _ = run(
        capsys, *FIT, "--csv", tmp_path / "train.csv", "--test-csv", test,
        "--exclude", "age", "--audit", "sex,parity", "--approval", "0.5",
    )  # fmt: skip
    assert code == 0
    sex_ratio = float(lines[-3].removeprefix("audit: sex ratio "))
    parity_ratio = float(lines[-2].removeprefix("audit: parity ratio "))
    assert sex_ratio < 0.8
    assert parity_ratio > 0.9
    assert "parity (IV" not in "\n".join(lines)  # audited columns are not fitted


def test_categories_are_grouped(capsys, files):
    code, lines, _ = run(capsys, *FIT, "--csv", files["train"], "--exclude", "age,sex")
    assert code == 0
    region = [line for line in column_lines(lines, "region") if not line.startswith("missing")]
    groups = [set(line.split(":")[0].split(", ")) for line in region]
    # six regions in at most five bins, each region once: some share a bin
    assert len(groups) <= 5
    assert sorted(r for group in groups for r in group) == REGIONS
    # the riskier regions earn the least
    worst = next(g for g, line in zip(groups, region, strict=True) if ": +0 points" in line)
    assert worst <= {"r1", "r2", "r3"}


def test_exclude_takes_a_column_out_of_the_fit(capsys, files, tmp_path):
    # Without --exclude, age (predictive here) is fitted
    code, lines, _ = run(capsys, *FIT, "--csv", files["train"], "--exclude", "sex")
    assert code == 0
    assert any(line.startswith("age (IV ") for line in lines)
    with_age = LAST_LINE.match(lines[-1])
    # With it, age is nowhere in the fit nor in the model written out
    out = tmp_path / "model.json"
    code, lines, _ = run(
        capsys, *FIT, "--csv", files["train"], "--exclude", "sex,age", "--out", out
    )
    assert code == 0
    assert not any(line.startswith("age") for line in lines)
    assert "age" not in [c["name"] for c in json.loads(out.read_text())["columns"]]
    without_age = LAST_LINE.match(lines[-1])
    assert with_age is not None
    assert without_age is not None
    assert float(without_age[2]) < float(with_age[2])  # it did predict


def test_without_a_test_file_a_quarter_is_held_out(capsys, files):
    code, lines, _ = run(capsys, *FIT, "--csv", files["train"], "--exclude", "age,sex")
    assert code == 0
    assert lines[0].startswith("no --test-csv: held out 1000 rows (25%, at random")
    train_line = next(line for line in lines if line.startswith("train: AUC "))
    test_line = next(line for line in lines if line.startswith("test: AUC "))
    bad = int((pd.read_csv(files["train"])["defaulted"] == "yes").sum())
    test_bad = int(re.search(r"\(1000 rows, (\d+) bad\)", test_line)[1])
    train_bad = int(re.search(r"\(3000 rows, (\d+) bad\)", train_line)[1])
    # stratified: the test holds a quarter of the bad rows too
    assert train_bad + test_bad == bad
    assert abs(test_bad - bad / 4) <= 1
    # and seeded: the same split again
    code, again, _ = run(capsys, *FIT, "--csv", files["train"], "--exclude", "age,sex")
    assert again == lines


@pytest.fixture
def small(tmp_path) -> dict[str, Path]:
    """Files each wrong in one way."""
    paths = {}
    frame = loans(400, 3)
    frame["income"] = frame["income"].astype(object)
    frame.loc[6, "income"] = "12k"
    paths["text_in_numbers"] = tmp_path / "text.csv"
    frame.to_csv(paths["text_in_numbers"], index=False)
    frame = loans(400, 3)
    frame["defaulted"] = "yes"
    paths["one_class"] = tmp_path / "one.csv"
    frame.to_csv(paths["one_class"], index=False)
    paths["few"] = tmp_path / "few.csv"
    loans(150, 3).to_csv(paths["few"], index=False)
    paths["no_income"] = tmp_path / "no_income.csv"
    loans(400, 4).drop(columns=["income"]).to_csv(paths["no_income"], index=False)
    paths["empty"] = tmp_path / "empty.csv"
    paths["empty"].write_text("")
    frame = loans(400, 3)
    frame.loc[9, "defaulted"] = None
    paths["no_target"] = tmp_path / "no_target.csv"
    frame.to_csv(paths["no_target"], index=False)
    return paths


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (("--csv", "{missing}"), "no such file"),
        (("--csv", "{train}", "--target", "outcome"), "no column 'outcome' (it has: income, "),
        (("--csv", "{train}", "--exclude", "age,shoe"), "no column 'shoe'"),
        (
            ("--csv", "{text_in_numbers}"),
            "line 8: income is '12k', not a number "
            "(if income holds categories, name it in --categorical)",
        ),
        (
            ("--csv", "{train}", "--categorical", ""),
            "line 2: region is 'r",
        ),
        (
            ("--csv", "{train}", "--bad", "maybe"),
            "never has the bad value 'maybe' (it has: no, yes)",
        ),
        (("--csv", "{one_class}"), "the target defaulted has only one value ('yes')"),
        (("--csv", "{no_target}"), "line 11: the target defaulted is empty"),
        (
            ("--csv", "{train}", "--categorical", "region,sex", "--audit", "sex"),
            "--audit sex: an audited column is not fitted",
        ),
        (("--csv", "{train}", "--approval", "1.5"), "--approval must be a share above 0"),
        (("--csv", "{few}"), "cannot fit: fewer than 200 rows (112)"),
        (("--csv", "{train}", "--test-csv", "{no_income}"), "no column 'income'"),
        (("--csv", "{empty}"), "not a readable CSV file"),
        (("--csv", "{train}", "--bins", "4"), "unrecognized arguments: --bins 4"),
    ],
)
def test_bad_input_is_one_line_and_exit_code_2(capsys, files, small, tmp_path, arguments, message):
    paths = {**{k: str(v) for k, v in files.items()}, **{k: str(v) for k, v in small.items()}}
    paths["missing"] = str(tmp_path / "nope.csv")
    given = [a.format(**paths) for a in arguments]
    defaults = ["--target", "defaulted", "--bad", "yes", "--categorical", "region"]
    defaults += ["--exclude", "age,sex"] if "--exclude" not in given else []
    for flag in ("--target", "--bad", "--categorical"):
        if flag in given:
            position = defaults.index(flag)
            del defaults[position : position + 2]
    code, _, err = run(capsys, "fit", *defaults, *given)
    assert code == 2
    assert err.count("\n") == 1
    assert err.startswith("error: ")
    assert message in err
    assert "Traceback" not in err


def test_a_real_run_without_django(files):
    # As an analyst runs it: a process of its own, no Django settings at all
    environment = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    environment["PYTHONPATH"] = str(ROOT)
    done = subprocess.run(  # noqa: S603 - fixed arguments
        [
            sys.executable, "-m", "scoring.fitting", "fit",
            "--csv", str(files["train"]), "--target", "defaulted", "--bad", "yes",
            "--categorical", "region", "--exclude", "age", "--audit", "sex",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=environment,
        timeout=120,
        check=False,
    )  # fmt: skip
    assert (done.returncode, done.stderr) == (0, "")
    lines = done.stdout.splitlines()
    assert LAST_LINE.match(lines[-1])
    assert lines[-2].startswith("audit: sex ratio ")
    # and nothing of Django was imported on the way
    probe = subprocess.run(
        [
            sys.executable, "-c",
            "import sys, scoring.fitting; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'django'))",
        ],
        capture_output=True, text=True, cwd=ROOT, env=environment, timeout=60, check=True,
    )  # fmt: skip
    assert probe.stdout.strip() == "[]"
