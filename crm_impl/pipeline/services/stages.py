"""Pipeline stage definitions: the eight seed stages of slide 2 plus Lost."""

from __future__ import annotations

from decimal import Decimal

from sqlmodel import Session, col, select

from crm_impl.pipeline.models import LostReason, StageDefinition

# key, English, Polish, kind, default probability, cost of working one deal through it (PLN), rot days
DEFAULT_STAGES: tuple[tuple[str, str, str, str, float, int, int], ...] = (
    ("prospect", "Prospect", "Potencjalny", "open", 0.05, 50, 30),
    ("contact_made", "Contact made", "Nawiązanie kontaktu", "open", 0.10, 120, 21),
    ("needs_analysis", "Needs analysis", "Analiza potrzeb", "open", 0.25, 400, 21),
    ("offer", "Offer", "Oferta", "open", 0.45, 600, 14),
    ("negotiation", "Negotiation", "Negocjacje", "open", 0.70, 500, 14),
    ("contract", "Contract", "Umowa", "won", 0.95, 300, 30),
    ("fulfilment", "Fulfilment", "Realizacja", "won", 1.0, 800, 45),
    ("completed", "Completed", "Zrealizowany", "won", 1.0, 0, 3650),
    ("lost", "Lost", "Utracony", "lost", 0.0, 0, 3650),
)


DEFAULT_LOST_REASONS: tuple[tuple[str, str, str], ...] = (
    ("price", "Price too high", "Za wysoka cena"),
    ("competitor", "Chose a competitor", "Wybrał konkurencję"),
    ("no_budget", "No budget", "Brak budżetu"),
    ("no_decision", "No decision", "Brak decyzji"),
    ("timing", "Wrong timing", "Nieodpowiedni moment"),
    ("lost_contact", "Lost contact", "Utracony kontakt"),
)


def ensure_default_stages(*, session: Session) -> None:
    """Create the default stages and lost reasons when none exist (first start); never touches
    edited ones."""
    if session.exec(select(LostReason.id).limit(1)).first() is None:
        for position, (key, en, pl) in enumerate(DEFAULT_LOST_REASONS, start=1):
            session.add(LostReason(key=key, name_en=en, name_pl=pl, position=position))
        session.commit()
    if session.exec(select(StageDefinition.id).limit(1)).first() is not None:
        return
    for position, (key, en, pl, kind, prob, cost, rot) in enumerate(DEFAULT_STAGES, start=1):
        session.add(
            StageDefinition(
                key=key,
                position=position,
                name_en=en,
                name_pl=pl,
                kind=kind,
                probability=prob,
                stage_cost=Decimal(cost),
                rot_days=rot,
            )
        )
    session.commit()


def list_stages(*, session: Session) -> list[StageDefinition]:
    return list(session.exec(select(StageDefinition).order_by(col(StageDefinition.position))).all())
