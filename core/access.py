"""A route's permission, declared above its body (as Indico's ``_check_access``):

    @bp.route("/classes/<int:class_id>/list")
    @permission(roster.can_read, "class_id", via=roster.school_of_row)
    def class_page(class_id): ...

The URL's objects are loaded through the tenant scope before any view runs (an object of
another tenant is 404, ``core.register_url_loader``); the declared check then decides between
the view and a 403, before the body is parsed. Services check again where a rule needs the
data (pages, the API and the CLI share them)."""
import functools

from flask import g

from core.errors import require


def permission(check, param=None, *, via=None):
    """Answer 403 unless ``check(target)``: ``target`` is the object loaded for the URL
    parameter ``param`` (passed through ``via``), or nothing when ``param`` is None."""

    def decorator(view):
        @functools.wraps(view)
        def guarded(*args, **kwargs):
            if param is None:
                require(check())
            else:
                target = g.loaded[param]
                require(check(via(target) if via else target))
            return view(*args, **kwargs)

        return guarded

    return decorator


def loaded(param, check, *, via=None):
    """The object loaded for URL parameter ``param``, once ``check`` allows it (for helpers
    that several routes share)."""
    target = g.loaded[param]
    require(check(via(target) if via else target))
    return target
