from sqlmodel import select

from crm_impl.pipeline.models import StageDefinition


def test_default_stages_exist(session):
    keys = session.exec(select(StageDefinition.key).order_by(StageDefinition.position)).all()
    assert keys[:3] == ["prospect", "contact_made", "needs_analysis"] and keys[-1] == "lost"
