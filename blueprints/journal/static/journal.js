// The journal grid: keyboard-first entry; each cell is saved through the API as it is typed
// (grades typed while a save of their lesson is on its way follow it as one column).
// Cells are plain <td>s: the lesson is named by the column header (data-l, its date data-d),
// the pupil by the row (data-p; a namesake's name as shown by the row header's data-n, any
// other row header holds the name alone), a saved grade by data-v (its version) and data-t
// (its work type); a cell with no grade showing an absence mark (data-absences) is that absence.
// A tap (or click) on a cell opens a pad of marks that saves exactly as a keystroke does.
// The grid opens scrolled to today's lesson (the header marked data-now).
(function () {
  var table = document.getElementById("journal");
  if (!table) { return; }
  var csrf = document.querySelector('meta[name="csrf-token"]').content;
  var status = document.getElementById("journal-status");
  var scale = table.dataset.scale.split(",");
  var types = table.dataset.types.split(",");
  var ABSENT = ["н", "Н", "n", "N", "y", "Y"];  // «н» on a Russian or a Latin layout
  var absences = JSON.parse(table.dataset.absences || "{}");  // status -> {mark, label}
  var typeNames = JSON.parse(table.dataset.typeNames || "{}");  // work-type code -> name
  var box = document.getElementById("journal-scroll");
  var heads = table.tHead.rows[0].cells;
  var body = table.tBodies[0];

  // Writable columns: cells become focusable; each such header gets a work-type choice. A
  // lesson after today (data-ahead, DL-2) takes no grades or absences yet: it stays as it is.
  for (var c = 1; c < heads.length; c++) {
    if (!heads[c].dataset.w || heads[c].dataset.ahead) { continue; }
    var select = document.createElement("select");
    select.className = "work-type";
    select.setAttribute("aria-label", table.dataset.typeLabel + ", " + heads[c].dataset.d);
    types.forEach(function (t) {
      var o = document.createElement("option"); o.value = o.textContent = t; o.title = typeNames[t] || t; select.appendChild(o);
    });
    heads[c].appendChild(select);
    for (var r = 0; r < body.rows.length; r++) {
      var td = body.rows[r].cells[c];
      td.tabIndex = 0;
      td.classList.add("w");
    }
  }

  function at(row, col) {
    var tr = body.rows[row];
    var td = tr && tr.cells[col];
    return td && td.tabIndex === 0 ? td : null;
  }
  function say(text) { status.textContent = text; }
  function lowerFirst(text) {  // «Устный ответ» reads «устный ответ» inside a line; «ВПР» stays
    return text.length > 1 && text.charAt(1) === text.charAt(1).toLowerCase() ? text.charAt(0).toLowerCase() + text.slice(1) : text;
  }
  function absenceOf(td) {  // the absence a cell shows, or null: a grade names itself by data-v
    return td.dataset.v ? null : statusOf(td.textContent);
  }
  function statusOf(value) {  // the attendance status a mark stands for, or null for a grade
    if (ABSENT.indexOf(value) >= 0) { return "absent"; }
    for (var key in absences) { if (absences[key].mark === value) { return key; } }
    return null;
  }
  // «Зайцев Егор · 02.12 · устный ответ: 5», from data attributes only: the header's text
  // holds the work-type choice, a row header the birth date that tells two namesakes apart.
  function describe(td, withValue) {
    var who = td.parentNode.cells[0];
    var text = (who.dataset.n || who.textContent) + " · " + heads[td.cellIndex].dataset.d;
    if (!withValue) { return text; }
    var absence = absenceOf(td);
    if (absence) { return text + " · " + absences[absence].label; }
    if (!td.textContent) { return text + ": —"; }
    var type = td.dataset.t;
    return text + (type ? " · " + lowerFirst(typeNames[type] || type) : "") + ": " + td.textContent;
  }
  function request(method, url, data) {
    return fetch(url, {method: method, credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRFToken": csrf, "Accept-Language": document.documentElement.lang},
      body: data === undefined ? undefined : JSON.stringify(data)})
      .then(function (r) { return r.text().then(function (t) { return {ok: r.ok, status: r.status, body: t ? JSON.parse(t) : {}}; }); });
  }

  // Grades typed while an earlier save of the same lesson is on its way wait for it, then
  // go together as one column (PUT .../grades, all or nothing): on a slow connection, or a
  // busy server, a column typed quickly costs two requests, not one per pupil.
  var waiting = {}, sending = {};

  function save(td, value) {
    var col = td.cellIndex, head = heads[col];
    var lesson = head.dataset.l, pupil = td.parentNode.dataset.p, previous = td.textContent;
    var absence = statusOf(value);
    td.classList.remove("saved", "error");
    td.classList.add("saving");
    td.textContent = absence ? absences[absence].mark : value;  // shown at once; put back if refused
    if (absence) {
      settle([td], request("PUT", "/api/v1/lessons/" + lesson + "/attendance/" + pupil, {status: absence}), [previous],
             false, true);
    } else if (value === "" && td.dataset.v) {
      settle([td], request("DELETE", "/api/v1/lessons/" + lesson + "/grades/" + pupil + "?work_type=" +
        encodeURIComponent(td.dataset.t) + "&version=" + td.dataset.v), [previous], true);
    } else if (value === "") {
      settle([td], request("PUT", "/api/v1/lessons/" + lesson + "/attendance/" + pupil, {status: null}), [previous], true);
    } else {
      var cells = waiting[lesson] = waiting[lesson] || [];
      var known = cells.filter(function (c) { return c.td === td; })[0];
      if (known) { known.value = value; } else { cells.push({td: td, value: value, previous: previous}); }
      if (!sending[lesson]) { send(lesson); }
    }
  }

  function send(lesson) {
    var cells = waiting[lesson] || [];
    delete waiting[lesson];
    if (!cells.length) { sending[lesson] = false; return; }
    sending[lesson] = true;
    var entries = cells.map(function (c) {
      return {pupil_id: parseInt(c.td.parentNode.dataset.p, 10), value: c.value,
              work_type: c.td.dataset.t || heads[c.td.cellIndex].querySelector("select").value,
              version: c.td.dataset.v ? parseInt(c.td.dataset.v, 10) : null};
    });
    var done = entries.length === 1
      ? request("PUT", "/api/v1/lessons/" + lesson + "/grades/" + entries[0].pupil_id,
                {value: entries[0].value, work_type: entries[0].work_type, version: entries[0].version})
      : request("PUT", "/api/v1/lessons/" + lesson + "/grades", {grades: entries});
    settle(cells.map(function (c) { return c.td; }), done, cells.map(function (c) { return c.previous; }))
      .then(function () { send(lesson); });
  }

  function settle(tds, done, previous, clearing, absence) {
    return done.then(function (res) {
      var saved = Array.isArray(res.body) ? res.body : [res.body];
      tds.forEach(function (td, i) {
        td.classList.remove("saving");
        if (res.ok) {
          var grade = saved[i] || {};
          if (grade.work_type) { td.dataset.v = grade.version; td.dataset.t = grade.work_type; }
          else if (clearing || absence) { delete td.dataset.v; delete td.dataset.t; }
          td.classList.toggle("l", !!grade.is_late);
          td.classList.add("saved");
        } else {
          td.classList.add("error");
          td.textContent = previous[i];
        }
      });
      var last = tds[tds.length - 1];
      if (res.ok) {
        say(describe(last, true));
        if (padCell === last) { padTitle.textContent = padLabel(last); }
        return;
      }
      // 409: the cell someone else changed meanwhile (named by the error, grades.N.version in
      // a column) shows what is there now: their mark and its version, or nothing if they
      // cleared it, so the next keystroke is based on it.
      if (res.status === 409 && res.body.errors) {
        var named = /^grades\.(\d+)\./.exec(Object.keys(res.body.errors)[0] || "");
        var changed = named ? tds[parseInt(named[1], 10)] : (tds.length === 1 ? tds[0] : null);
        var current = res.body.current;
        if (changed && current && current.work_type) {
          changed.textContent = current.value; changed.dataset.v = current.version; changed.dataset.t = current.work_type;
        } else if (changed && current === null) {
          changed.textContent = ""; delete changed.dataset.v; delete changed.dataset.t;
        }
      }
      var errors = res.body.errors ? Object.values(res.body.errors)[0] : null;  // translated, naming the field
      say((errors && errors[0]) || res.body.detail || res.body.title || "");
    });
  }

  table.addEventListener("keydown", function (event) {
    var td = event.target;
    if (!td.classList || !td.classList.contains("w")) { return; }
    var row = td.parentNode.sectionRowIndex, col = td.cellIndex, next = null;
    if (event.key === "ArrowRight") { next = at(row, col + 1); }
    else if (event.key === "ArrowLeft") { next = at(row, col - 1); }
    else if (event.key === "ArrowDown" || event.key === "Enter") { next = at(row + 1, col); }
    else if (event.key === "ArrowUp") { next = at(row - 1, col); }
    else if ((event.ctrlKey || event.metaKey) && (event.key === "d" || event.key === "в")) {
      var above = at(row - 1, col);
      if (above && above.textContent && above.textContent.indexOf("/") < 0) { save(td, above.textContent); }
      next = at(row + 1, col);
    } else if (event.key === "Escape" && padCell) {
      closePad();
    } else if (scale.indexOf(event.key) >= 0 || ABSENT.indexOf(event.key) >= 0) {
      save(td, event.key); next = at(row + 1, col);
    } else if (event.key === "Delete" || event.key === "Backspace") {
      save(td, "");
    } else if (event.key === "h" || event.key === "р") {  // the cell's history, on its lesson page
      window.location.href = heads[col].querySelector("a").getAttribute("href") + "?pupil_id=" +
        td.parentNode.dataset.p + "#history";
    } else { return; }
    event.preventDefault();
    if (next) { next.focus(); }
  });

  // The touch pad: a tap on a writable cell opens it beside the cell; a mark is saved as its
  // key would be (same requests, same error display, same versions), then the pad moves on
  // to the next pupil of the column, as Enter does. Clear empties the cell, Close (or Escape,
  // or a tap elsewhere) closes it.
  var pad = document.getElementById("journal-pad");
  var padTitle = document.getElementById("journal-pad-title");
  var padCell = null;
  function key(text, value, label, kind) {
    var button = document.createElement("button");
    button.type = "button";
    button.textContent = text;
    if (value !== null) { button.dataset.value = value; } else { button.dataset.close = "1"; }
    if (label) { button.title = label; button.setAttribute("aria-label", text + " — " + label); }
    if (kind) { button.className = kind; }
    pad.querySelector(".journal-pad-keys").appendChild(button);
  }
  if (pad) {  // the scale's marks, the absences a tap may set, Clear and Close
    scale.forEach(function (mark) { key(mark, mark); });
    pad.dataset.absences.split(",").forEach(function (s) { key(absences[s].mark, absences[s].mark, absences[s].label, "secondary"); });
    key(pad.dataset.clear, "", null, "secondary outline");
    key(pad.dataset.close, null, null, "contrast outline");
  }

  function placePad() {
    if (!padCell) { return; }
    var cell = padCell.getBoundingClientRect(), size = pad.getBoundingClientRect(), margin = 8;
    var left = Math.max(margin, Math.min(cell.left + cell.width / 2 - size.width / 2,
                                         document.documentElement.clientWidth - size.width - margin));
    var top = cell.bottom + 4;
    if (top + size.height > window.innerHeight - margin) { top = cell.top - size.height - 4; }
    if (top < margin) { top = Math.max(margin, window.innerHeight - size.height - margin); }
    pad.style.left = left + "px";  // CSSOM, not a style attribute: allowed by the CSP
    pad.style.top = top + "px";
  }
  function padLabel(td) {  // the cell, and the work type a mark tapped now goes to
    var type = td.dataset.t || heads[td.cellIndex].querySelector("select").value;
    return describe(td, false) + " · " + lowerFirst(typeNames[type] || type);
  }
  function openPad(td) {
    if (padCell) { padCell.classList.remove("picked"); }
    padCell = td;
    td.classList.add("picked");
    padTitle.textContent = padLabel(td);
    pad.hidden = false;
    td.focus({preventScroll: true});
    revealCell(td);
    placePad();
  }
  function closePad() {
    if (padCell) { padCell.classList.remove("picked"); padCell.focus({preventScroll: true}); }
    padCell = null;
    pad.hidden = true;
  }
  function revealCell(td) {  // into the box's view, clear of the sticky names and dates
    var cell = td.getBoundingClientRect(), view = box.getBoundingClientRect();
    var names = table.tHead.rows[0].cells[0].getBoundingClientRect(), dates = table.tHead.getBoundingClientRect();
    if (cell.left < names.right) { box.scrollLeft -= names.right - cell.left; }
    else if (cell.right > view.right) { box.scrollLeft += cell.right - view.right; }
    if (cell.top < dates.bottom) { box.scrollTop -= dates.bottom - cell.top; }
    else if (cell.bottom > view.bottom) { box.scrollTop += cell.bottom - view.bottom; }
    cell = td.getBoundingClientRect();
    if (cell.bottom > window.innerHeight || cell.top < 0) { td.scrollIntoView({block: "nearest", inline: "nearest"}); }
  }
  if (pad) {
    table.addEventListener("click", function (event) {
      var td = event.target.closest && event.target.closest("td.w");
      if (td) { openPad(td); }
    });
    pad.addEventListener("click", function (event) {
      var button = event.target.closest("button");
      if (!button || !padCell) { return; }
      if (button.dataset.close) { closePad(); return; }
      var td = padCell, value = button.dataset.value;
      save(td, value);
      var next = value === "" ? null : at(td.parentNode.sectionRowIndex + 1, td.cellIndex);
      if (next) { openPad(next); } else { padTitle.textContent = padLabel(td); }
    });
    document.addEventListener("click", function (event) {
      if (padCell && !pad.contains(event.target) && !(event.target.closest && event.target.closest("td.w"))) { closePad(); }
    });
    table.addEventListener("focusin", function (event) {  // keys moved on while the pad is open
      if (padCell && event.target !== padCell && event.target.classList.contains("w")) { openPad(event.target); }
    });
    box.addEventListener("scroll", placePad, {passive: true});
    window.addEventListener("scroll", placePad, {passive: true});
    window.addEventListener("resize", placePad);
  }

  // Open on today's lesson (else the latest held): scrolled so that its column stands near
  // the right edge of the box, the weeks before it in view, the names still beside it.
  var now = table.querySelector("thead th[data-now]");
  if (now) {
    var nowRect = now.getBoundingClientRect(), boxRect = box.getBoundingClientRect();
    var ahead = Math.min(2 * nowRect.width, Math.max(0, boxRect.width / 4));
    box.scrollLeft = Math.max(0, nowRect.right - boxRect.left + box.scrollLeft + ahead - box.clientWidth);
  }
  // The keyboard starts in the writable column nearest before today's (else the first).
  var start = null, writable = table.querySelectorAll("thead th[data-w]:not([data-ahead])");
  for (var w = 0; w < writable.length; w++) {
    if (start === null || !now || writable[w].cellIndex <= now.cellIndex) { start = writable[w]; }
  }
  var first = start ? at(0, start.cellIndex) : null;
  if (first) { first.focus({preventScroll: true}); }
})();
