"""The team: a municipality's staff, invitations, roles, deactivation."""

from __future__ import annotations

from flask import (
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from sqlalchemy import select

from admin import bp
from admin.forms import ROLE_LABELS, ActionForm, InviteForm, RoleForm
from admin.guards import (
    current_municipality_id,
    current_region_id,
    current_staff,
    scoped,
    scoped_get_or_404,
    staff_required,
)
from app.db import db_session
from app.models import (
    StaffRole,
    StaffUser,
)
from app.staff import accounts as staff_service
from app.staff import invitations


@bp.get("/tym")
@staff_required(role=StaffRole.MUNICIPALITY_ADMIN)
def team():  # type: ignore[no-untyped-def]
    rows = db_session.scalars(scoped(select(StaffUser), StaffUser).order_by(StaffUser.active.desc(),
                                                                             StaffUser.email)).all()
    return render_template("admin/team.html", members=rows, roles=staff_service.assignable_roles(current_staff))


@bp.route("/tym/pozvat", methods=["GET", "POST"])
@staff_required(role=StaffRole.MUNICIPALITY_ADMIN)
def team_invite():  # type: ignore[no-untyped-def]
    form = InviteForm()
    form.role.choices = [(r, str(ROLE_LABELS[r])) for r in staff_service.assignable_roles(current_staff)]
    link = None
    if form.validate_on_submit():
        mid = current_municipality_id()
        try:
            result = invitations.invite_staff(current_staff, form.email.data or "", form.role.data or "",
                                                mid, name=form.name.data or "", region_id=current_region_id())
        except staff_service.StaffError as exc:
            db_session.rollback()
            (form.email if exc.code == "exists" else form.role).errors = [exc.message]
        else:
            link = result.link
            flash(_("Pozvánka pro %(e)s byla vytvořena%(m)s.", e=result.invitation.email,
                    m=_(" a odeslána e-mailem") if result.mailed else ""), "success")
            return render_template("admin/invite.html", form=InviteForm(formdata=None), link=link)
    status = 422 if request.method == "POST" else 200
    return render_template("admin/invite.html", form=form, link=link), status


@bp.post("/tym/<int:staff_id>/role")
@staff_required(role=StaffRole.MUNICIPALITY_ADMIN)
def team_role(staff_id: int):  # type: ignore[no-untyped-def]
    member = scoped_get_or_404(StaffUser, id=staff_id)
    form = RoleForm()
    form.role.choices = [(r, r) for r in staff_service.assignable_roles(current_staff)]
    if not form.validate_on_submit():
        flash(_("Vyberte platnou roli."), "error")
    else:
        try:
            staff_service.change_role(current_staff, member, form.role.data or "")
            db_session.commit()
            flash(_("Role uživatele %(e)s byla změněna.", e=member.email), "success")
        except staff_service.StaffError as exc:
            db_session.rollback()
            flash(exc.message, "error")
    return redirect(url_for("admin.team"), code=303)


@bp.post("/tym/<int:staff_id>/deaktivovat")
@staff_required(role=StaffRole.MUNICIPALITY_ADMIN)
def team_deactivate(staff_id: int):  # type: ignore[no-untyped-def]
    member = scoped_get_or_404(StaffUser, id=staff_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        staff_service.set_staff_active(current_staff, member, request.form.get("active") == "1")
        db_session.commit()
        flash(_("Účet %(e)s je nyní %(s)s.", e=member.email, s=_("aktivní") if member.active else _("deaktivovaný")),
              "success")
    except staff_service.StaffError as exc:
        db_session.rollback()
        flash(exc.message, "error")
    return redirect(url_for("admin.team"), code=303)
