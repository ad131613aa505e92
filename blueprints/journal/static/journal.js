// The journal grid: keyboard-first entry; each cell is saved through the API as it is typed.
(function () {
  var table = document.getElementById("journal");
  if (!table) { return; }
  var csrf = document.querySelector('meta[name="csrf-token"]').content;
  var status = document.getElementById("journal-status");
  var scale = table.dataset.scale.split(",");
  var ABSENT = ["н", "Н", "n", "N", "y", "Y"];  // «н» on a Russian or a Latin layout

  function cells() { return Array.prototype.slice.call(table.querySelectorAll("input.cell")); }
  function at(row, col) {
    var tr = table.tBodies[0].rows[row];
    return tr ? tr.cells[col + 1] && tr.cells[col + 1].querySelector("input") : null;
  }
  function position(input) {
    var td = input.parentNode;
    return {row: td.parentNode.sectionRowIndex, col: td.cellIndex - 1};
  }
  function workType(lesson) {
    var select = table.querySelector('select.work-type[data-lesson="' + lesson + '"]');
    return select ? select.value : "У";
  }
  function say(text) { status.textContent = text; }

  function request(method, url, body) {
    return fetch(url, {method: method, credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRFToken": csrf, "Accept-Language": document.documentElement.lang},
      body: JSON.stringify(body)}).then(function (r) { return r.json().then(function (j) { return {ok: r.ok, status: r.status, body: j}; }); });
  }

  function save(input, value) {
    var lesson = input.dataset.lesson, pupil = input.dataset.pupil, previous = input.value;
    input.classList.remove("saved", "error");
    input.classList.add("saving");
    input.value = ABSENT.indexOf(value) >= 0 ? "н" : value;  // shown at once; put back if refused
    var done;
    if (ABSENT.indexOf(value) >= 0) {
      done = request("PUT", "/api/v1/lessons/" + lesson + "/attendance/" + pupil, {status: "absent"});
      value = "н";
    } else if (value === "" && input.dataset.version) {
      done = fetch("/api/v1/lessons/" + lesson + "/grades/" + pupil + "?work_type=" + encodeURIComponent(input.dataset.work) +
        "&version=" + input.dataset.version, {method: "DELETE", credentials: "same-origin", headers: {"X-CSRFToken": csrf}})
        .then(function (r) { return {ok: r.ok, status: r.status, body: {version: "", work_type: ""}}; });
    } else if (value === "") {
      done = request("PUT", "/api/v1/lessons/" + lesson + "/attendance/" + pupil, {status: null});
    } else {
      var work = input.dataset.work || workType(lesson);
      done = request("PUT", "/api/v1/lessons/" + lesson + "/grades/" + pupil,
        {value: value, work_type: work, version: input.dataset.version ? parseInt(input.dataset.version, 10) : null});
    }
    done.then(function (res) {
      input.classList.remove("saving");
      if (res.ok) {
        input.value = value;
        if (res.body.version !== undefined && res.body.work_type !== undefined) {
          input.dataset.version = res.body.version; input.dataset.work = res.body.work_type;
        }
        input.parentNode.classList.toggle("late", !!res.body.is_late);
        input.classList.add("saved");
        say(input.getAttribute("aria-label") + ": " + (value || "—"));
      } else {
        input.classList.add("error");
        input.value = previous;
        if (res.status === 409 && res.body.current) {
          input.value = res.body.current.value; input.dataset.version = res.body.current.version;
        }
        say(res.body.detail || res.body.title);
      }
    });
  }

  table.addEventListener("keydown", function (event) {
    var input = event.target;
    if (!input.classList || !input.classList.contains("cell")) { return; }
    var p = position(input), next = null;
    if (event.key === "ArrowRight") { next = at(p.row, p.col + 1); }
    else if (event.key === "ArrowLeft") { next = at(p.row, p.col - 1); }
    else if (event.key === "ArrowDown" || event.key === "Enter") { next = at(p.row + 1, p.col); }
    else if (event.key === "ArrowUp") { next = at(p.row - 1, p.col); }
    else if ((event.ctrlKey || event.metaKey) && (event.key === "d" || event.key === "в")) {
      var above = at(p.row - 1, p.col);
      if (above && !input.readOnly && above.value && above.value.indexOf("/") < 0) { save(input, above.value); }
      next = at(p.row + 1, p.col);
    } else if (!input.readOnly && (scale.indexOf(event.key) >= 0 || ABSENT.indexOf(event.key) >= 0)) {
      save(input, event.key); next = at(p.row + 1, p.col);
    } else if (!input.readOnly && (event.key === "Delete" || event.key === "Backspace")) {
      save(input, "");
    } else if (event.key === "Tab") { return; }
    event.preventDefault();
    if (next) { next.focus(); next.select(); }
  });
  var first = cells().filter(function (c) { return !c.readOnly; })[0];
  if (first) { first.focus(); }
})();
