import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from collect.database import make_engine, writer
from collect.group_commit import GroupCommit

metadata = sa.MetaData()
items = sa.Table("items", metadata, sa.Column("n", sa.Integer, primary_key=True))


def test_batched_jobs_fail_alone_and_answer_after_commit(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'g.db'}")
    metadata.create_all(engine)
    group = GroupCommit(writer(engine), threading.Lock())
    start = threading.Barrier(40)

    def job(n: int):
        def insert(conn):
            conn.execute(items.insert().values(n=n))
            if n % 10 == 3:
                raise ValueError(f"job {n} refused")
            return n

        start.wait()
        try:
            value = group.run(insert)
        except ValueError:
            return None
        with engine.connect() as conn:  # acknowledged ⇒ already committed and visible to another connection
            assert conn.execute(sa.select(items.c.n).where(items.c.n == n)).scalar() == n
        return value

    with ThreadPoolExecutor(max_workers=40) as pool:
        results = list(pool.map(job, range(40)))
    group.close()
    with pytest.raises(RuntimeError, match="closed"):
        group.run(lambda conn: None)
    expected = [n for n in range(40) if n % 10 != 3]
    assert [r for r in results if r is not None] == expected
    with engine.connect() as conn:
        assert sorted(conn.execute(sa.select(items.c.n)).scalars()) == expected
    engine.dispose()


def test_a_failed_commit_fails_every_job_of_the_batch(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'g.db'}")
    metadata.create_all(engine)
    sa.event.listen(engine, "commit", lambda conn: (_ for _ in ()).throw(OSError("disk full")))
    group = GroupCommit(writer(engine), threading.Lock())
    with pytest.raises(OSError, match="disk full"):
        group.run(lambda conn: conn.execute(items.insert().values(n=1)))
    group.close()
    engine.dispose()
