// The journal grid: keyboard-first entry; each cell is saved through the API as it is typed.
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

  function save(td, value) {
    var col = td.cellIndex, head = heads[col];
    var lesson = head.dataset.l, pupil = td.parentNode.dataset.p, previous = td.textContent;
    var absent = ABSENT.indexOf(value) >= 0;
    td.classList.remove("saved", "error");
    td.classList.add("saving");
    td.textContent = absent ? "н" : value;  // shown at once; put back if refused
    var done;
    if (absent) {
      done = request("PUT", "/api/v1/lessons/" + lesson + "/attendance/" + pupil, {status: "absent"});
    } else if (value === "" && td.dataset.v) {
      done = request("DELETE", "/api/v1/lessons/" + lesson + "/grades/" + pupil + "?work_type=" +
        encodeURIComponent(td.dataset.t) + "&version=" + td.dataset.v);
    } else if (value === "") {
      done = request("PUT", "/api/v1/lessons/" + lesson + "/attendance/" + pupil, {status: null});
    } else {
      var work = td.dataset.t || head.querySelector("select").value;
      done = request("PUT", "/api/v1/lessons/" + lesson + "/grades/" + pupil,
        {value: value, work_type: work, version: td.dataset.v ? parseInt(td.dataset.v, 10) : null});
    }
    done.then(function (res) {
      td.classList.remove("saving");
      if (res.ok) {
        if (res.body.work_type) { td.dataset.v = res.body.version; td.dataset.t = res.body.work_type; }
        else if (value === "" || absent) { delete td.dataset.v; delete td.dataset.t; }
        td.classList.toggle("l", !!res.body.is_late);
        td.classList.add("saved");
        say((td.parentNode.cells[0].textContent) + ", " + head.textContent.trim() + ": " + (td.textContent || "—"));
      } else {
        td.classList.add("error");
        td.textContent = previous;
        if (res.status === 409 && res.body.current) {
          td.textContent = res.body.current.value; td.dataset.v = res.body.current.version;
        }
        say(res.body.detail || res.body.title || "");
      }
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
