import subprocess
import sys
import textwrap

import pytest
from sqlalchemy import Engine

from storage.engine import transaction
from storage.references import allocate_reference, format_reference


def test_reference_format_has_at_least_four_digits() -> None:
    assert format_reference(2026, 42) == "DSR-2026-0042"
    assert format_reference(2026, 12345) == "DSR-2026-12345"


def test_numbers_count_per_year(engine: Engine) -> None:
    with transaction(engine) as session:
        first = allocate_reference(session=session, year=2026)
        second = allocate_reference(session=session, year=2026)
        other_year = allocate_reference(session=session, year=2027)
    assert (first, second, other_year) == ("DSR-2026-0001", "DSR-2026-0002", "DSR-2027-0001")


def test_a_rolled_back_case_leaves_a_gap_not_a_duplicate(engine: Engine) -> None:
    with pytest.raises(RuntimeError), transaction(engine) as session:
        allocate_reference(session=session, year=2026)
        raise RuntimeError("crash after allocating")
    with transaction(engine) as session:
        assert allocate_reference(session=session, year=2026) == "DSR-2026-0001"


WORKER = textwrap.dedent(
    """
    import sys
    from datetime import UTC, datetime, timedelta
    from bot.cases import NewCase, open_case
    from bot.desk import Desk
    from bot.settings import Settings
    from storage.engine import make_engine

    url, count = sys.argv[1], int(sys.argv[2])
    engine = make_engine(url)
    desk = Desk(settings=Settings(_env_file=None, database_url=url), engine=engine)
    start = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)
    for i in range(count):
        with desk.transaction() as session:
            case = open_case(desk, session=session, now=start, new=NewCase(
                requester="p@example.nl", received_at=start + timedelta(seconds=i),
                category="access"))
            print(case.reference)
    """
)


@pytest.mark.slow
def test_two_processes_creating_500_cases_each_get_1000_distinct_references(
    postgres_url: str,
) -> None:
    from storage.engine import make_engine
    from storage.migrate import upgrade

    engine = make_engine(postgres_url)
    upgrade(engine)
    engine.dispose()
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, postgres_url, "500"],
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [w.communicate(timeout=300)[0].split() for w in workers]
    assert [w.returncode for w in workers] == [0, 0]
    references = outputs[0] + outputs[1]
    assert len(references) == 1000
    assert len(set(references)) == 1000
    assert max(references) == "DSR-2026-1000"
