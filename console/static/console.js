// The console's only script, written for it (no third-party code): confirmations before
// irreversible actions, upload and download progress, the sign-in poll and the live turnout figures.
// Handlers are delegated from the document, so a page swapped in after an upload keeps working.
(function () {
  "use strict";
  var csrf = function () { return document.body.getAttribute("data-csrf") || ""; };

  function swapIn(html) {
    var doc = new DOMParser().parseFromString(html, "text/html");
    document.title = doc.title;
    document.body.replaceWith(document.adoptNode(doc.body));
    var alert = document.querySelector("[role=alert], .result");
    if (alert) { alert.setAttribute("tabindex", "-1"); alert.focus(); }
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) { event.preventDefault(); return; }
    if (!form.hasAttribute("data-progress")) { return; }
    event.preventDefault();
    var bar = form.querySelector("progress");
    var status = form.querySelector("[role=status]");
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    xhr.setRequestHeader("X-CSRF-Token", csrf());
    xhr.upload.addEventListener("progress", function (e) {
      if (e.lengthComputable && bar) { bar.max = e.total; bar.value = e.loaded; }
      if (status) { status.textContent = e.loaded < e.total ? "正在上传…" : "正在检查与导入，请稍候…"; }
    });
    xhr.addEventListener("load", function () { swapIn(xhr.responseText); });
    xhr.addEventListener("error", function () { if (status) { status.textContent = "网络错误，请重试"; } });
    if (bar) { bar.hidden = false; bar.removeAttribute("value"); }
    xhr.send(new FormData(form));
  });

  // Downloads marked data-download (the motion archive) come by XHR, so the page can show how far
  // along they are; the file is then saved under the server's name. An error page is shown instead.
  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("a[data-download]") : null;
    if (!link) { return; }
    event.preventDefault();
    var box = link.closest("[data-downloads]") || link.parentNode;
    var bar = box.querySelector("progress");
    var status = box.querySelector("[role=status]");
    var xhr = new XMLHttpRequest();
    xhr.open("GET", link.href);
    xhr.responseType = "blob";
    if (bar) { bar.hidden = false; bar.removeAttribute("value"); }
    if (status) { status.textContent = "正在生成归档文件…"; }
    xhr.addEventListener("progress", function (e) {
      if (status) { status.textContent = "正在下载…"; }
      if (e.lengthComputable && bar) { bar.max = e.total; bar.value = e.loaded; }
    });
    xhr.addEventListener("load", function () {
      if (xhr.status !== 200) { xhr.response.text().then(swapIn); return; }
      var found = /filename="([^"]+)"/.exec(xhr.getResponseHeader("content-disposition") || "");
      var url = URL.createObjectURL(xhr.response);
      var save = document.createElement("a");
      save.href = url;
      save.download = found ? found[1] : "download";
      document.body.appendChild(save);
      save.click();
      save.remove();
      window.setTimeout(function () { URL.revokeObjectURL(url); }, 10000);
      if (bar) { bar.max = 1; bar.value = 1; }
      if (status) { status.textContent = "已下载 " + save.download; }
    });
    xhr.addEventListener("error", function () { if (status) { status.textContent = "网络错误，请重试"; } });
    xhr.send();
  });

  function post(url) {
    return fetch(url, { method: "POST", credentials: "same-origin", headers: { "X-CSRF-Token": csrf() } })
      .then(function (r) { return r.json(); });
  }

  function pollLogin() {
    var state = document.getElementById("login-state");
    if (!state) { return; }
    var url = state.getAttribute("data-poll");
    var timer = window.setInterval(function () {
      post(url).then(function (answer) {
        if (answer.state === "done") { window.clearInterval(timer); window.location.assign(answer.next); }
        else if (answer.state === "expired") { window.clearInterval(timer); state.textContent = answer.message; }
      }).catch(function () { state.textContent = "网络错误，正在重试…"; });
    }, 1500);
  }

  function liveFigures() {
    document.querySelectorAll("[data-live]").forEach(function (box) {
      var url = box.getAttribute("data-live");
      var refresh = function () {
        fetch(url, { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (data) {
          box.querySelectorAll("[data-field]").forEach(function (cell) {
            var value = cell.getAttribute("data-field").split(".").reduce(function (o, k) {
              return o == null ? o : o[k];
            }, data);
            if (value != null) { cell.textContent = value; }
          });
        }).catch(function () {});
      };
      window.setInterval(refresh, 5000);
    });
  }

  pollLogin();
  liveFigures();
})();

// Disclosure line items (console/templates/disclosure.html): add and remove rows. The form posts
// as plain HTML without this; totals are never computed here, the page shows the server's.
(function () {
  "use strict";
  function renumber(table) {
    var section = table.getAttribute("data-section") || "";
    Array.prototype.forEach.call(table.tBodies[0].rows, function (row, i) {
      row.querySelectorAll("input[data-col]").forEach(function (input) {
        input.setAttribute("aria-label", section + " 第" + (i + 1) + "行 " + input.getAttribute("data-col"));
      });
    });
  }
  document.querySelectorAll("[data-lines] button[hidden]").forEach(function (b) { b.hidden = false; });
  document.addEventListener("click", function (event) {
    var target = event.target.closest ? event.target : null;
    if (!target) { return; }
    var add = target.closest("[data-add-line]");
    if (add) {
      var table = document.getElementById(add.getAttribute("data-add-line"));
      var body = table.tBodies[0];
      var copy = body.rows[body.rows.length - 1].cloneNode(true);
      copy.querySelectorAll("input").forEach(function (input) { input.value = ""; });
      body.appendChild(copy);
      renumber(table);
      copy.querySelector("input").focus();
      return;
    }
    var remove = target.closest("[data-remove-line]");
    if (remove) {
      var row = remove.closest("tr");
      var owner = row.closest("table");
      if (owner.tBodies[0].rows.length > 1) { row.remove(); }
      else { row.querySelectorAll("input").forEach(function (input) { input.value = ""; }); }
      renumber(owner);
      var next = owner.tBodies[0].rows[0];
      if (next) { next.querySelector("input").focus(); }
    }
  });
})();
