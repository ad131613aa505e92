"""Long imports run as jobs: the file checked in the preview is committed by a worker."""
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from core.extensions import db
from core.i18n import N_
from core.jobs import job
from core.uploads import load_upload
from blueprints.roster import imports
from blueprints.roster.models import AcademicYear
from tenants.models import Tenant


@job("roster_import", label=_l("Roster import"))
def run_import(ctx, kind, year_id, upload, issued_by_id=None):
    """Not idempotent by retry (a half-failed import is rolled back whole and reported): an
    admin retries it once the cause is fixed, and the natural keys make that safe."""
    school = db.session.execute(select(Tenant).where(Tenant.id == ctx.tenant_id)).scalar_one()
    year = db.session.execute(select(AcademicYear).where(AcademicYear.id == year_id)).scalar_one()
    ctx.progress(5, N_("Checking the file"))
    filename, data = load_upload(school, upload)
    # The admin's permission was checked when the job was started.
    parsed, summary = imports.run(kind, school, year, filename, data, commit=True, issued_by_id=issued_by_id,
                                  permission_checked=True)
    if summary is None:
        raise ValueError(f"{len(parsed.rejected_rows)} rows were rejected; check the file again")
    db.session.commit()
    # The result (one-time codes of new staff included) is shown to the admin who started
    # the job and to the school's admins; job results are not visible to anyone else.
    ctx.set_result(summary)
