// The regulation form: "Add an item" to a list, and a changed value ticks "Set here".
(function () {
  function renumber(node, index) {
    node.dataset.index = index;
    node.querySelectorAll("[name]").forEach(function (input) {
      // v:<path>:<index>[:<field>...] and del:<path>:<index>
      input.name = input.name.replace(/^((?:v|del):[^:]+:)\d+/, "$1" + index);
      if (input.type === "checkbox") { input.checked = false; } else if (input.tagName === "SELECT") { input.selectedIndex = 0; } else { input.value = ""; }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("version-form");
    if (!form) { return; }
    // With the button, the empty item kept for a browser without scripts is not needed.
    form.querySelectorAll("[data-list] > [data-blank]").forEach(function (blank) { blank.hidden = true; });
    form.querySelectorAll("[data-add]").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () {
        var list = button.parentElement.querySelector("[data-list]");
        var blank = list.querySelector("[data-blank]");
        var copy = blank.cloneNode(true);
        var next = Math.max.apply(null, Array.prototype.map.call(list.children, function (child) {
          return parseInt(child.dataset.index, 10) || 0;
        })) + 1;
        renumber(copy, next);
        copy.hidden = false;
        copy.removeAttribute("data-blank");
        list.appendChild(copy);
        var first = copy.querySelector("input, select");
        if (first) { first.focus(); }
      });
    });
    form.addEventListener("input", tick);
    form.addEventListener("change", tick);
    function tick(event) {
      var name = event.target.name || "";
      if (!/^(v|del):/.test(name)) { return; }
      var row = event.target.closest(".reg-row");
      var set = row && row.querySelector("[data-set]");
      if (set) { set.checked = true; }
    }
  });
})();
