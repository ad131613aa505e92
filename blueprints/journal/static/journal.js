// The journal grid: keyboard-first entry; each cell is saved through the API as it is typed
// (grades typed while a save of their lesson is on its way follow it as one column).
// Cells are plain <td>s: the lesson is named by the column header (data-l), the pupil by the
// row (data-p), a saved grade by data-v (its version) and data-t (its work type).
(function () {
  var table = document.getElementById("journal");
  if (!table) { return; }
  var csrf = document.querySelector('meta[name="csrf-token"]').content;
  var status = document.getElementById("journal-status");
  var scale = table.dataset.scale.split(",");
  var types = table.dataset.types.split(",");
  var ABSENT = ["н", "Н", "n", "N", "y", "Y"];  // «н» on a Russian or a Latin layout
  var heads = table.tHead.rows[0].cells;
  var body = table.tBodies[0];

  // Writable columns: cells become focusable; each such header gets a work-type choice.
  for (var c = 1; c < heads.length; c++) {
    if (!heads[c].dataset.w) { continue; }
    var select = document.createElement("select");
    select.className = "work-type";
    select.setAttribute("aria-label", heads[c].textContent.trim());
    types.forEach(function (t) { var o = document.createElement("option"); o.value = o.textContent = t; select.appendChild(o); });
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
    var absent = ABSENT.indexOf(value) >= 0;
    td.classList.remove("saved", "error");
    td.classList.add("saving");
    td.textContent = absent ? "н" : value;  // shown at once; put back if refused
    if (absent) {
      settle([td], request("PUT", "/api/v1/lessons/" + lesson + "/attendance/" + pupil, {status: "absent"}), [previous]);
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

  function settle(tds, done, previous, clearing) {
    return done.then(function (res) {
      var saved = Array.isArray(res.body) ? res.body : [res.body];
      tds.forEach(function (td, i) {
        td.classList.remove("saving");
        if (res.ok) {
          var grade = saved[i] || {};
          if (grade.work_type) { td.dataset.v = grade.version; td.dataset.t = grade.work_type; }
          else if (clearing || td.textContent === "н") { delete td.dataset.v; delete td.dataset.t; }
          td.classList.toggle("l", !!grade.is_late);
          td.classList.add("saved");
        } else {
          td.classList.add("error");
          td.textContent = previous[i];
        }
      });
      var head = heads[tds[tds.length - 1].cellIndex], last = tds[tds.length - 1];
      if (res.ok) {
        say(last.parentNode.cells[0].textContent + ", " + head.textContent.trim() + ": " + (last.textContent || "—"));
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
  var first = table.querySelector("td.w");
  if (first) { first.focus(); }
})();
