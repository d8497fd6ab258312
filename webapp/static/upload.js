/* Uploads with progress: the drop zone of the upload page (one request per file, so each file gets
   its own progress bar and its own error), and new-version forms on the document page.
   Without this script both forms still work as ordinary multipart posts. */
(function () {
  "use strict";

  function csrfToken(form) {
    var input = form.querySelector("input[name=csrf_token]");
    return input ? input.value : "";
  }

  function words() {
    var holder = document.getElementById("upload-words");
    return holder ? holder.dataset : {};
  }

  /* POST formData to url with a progress callback; calls done(status, json-or-null). */
  function send(url, formData, token, onProgress, done) {
    var xhr = new XMLHttpRequest();
    xhr.open("POST", url);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.setRequestHeader("X-CSRFToken", token);
    xhr.upload.addEventListener("progress", function (event) {
      if (event.lengthComputable) { onProgress(Math.round(100 * event.loaded / event.total)); }
    });
    xhr.addEventListener("load", function () {
      var body = null;
      try { body = JSON.parse(xhr.responseText); } catch (ignored) { body = null; }
      done(xhr.status, body);
    });
    xhr.addEventListener("error", function () { done(0, null); });
    xhr.send(formData);
  }

  function firstResult(status, body) {
    if (body && body.results && body.results.length) { return body.results[0]; }
    if (status === 413) { return { ok: false, code: "too_large", error: words().tooLarge || "too large" }; }
    return { ok: false, code: "network", error: words().network || "upload failed" };
  }

  /* -- the upload page ---------------------------------------------------------------------- */

  function queueItem(list, file) {
    var empty = document.getElementById("upload-empty");
    if (empty) { empty.remove(); }
    var item = document.createElement("li");
    item.className = "upload-item";
    var name = document.createElement("span");
    name.className = "upload-name";
    name.textContent = file.name;
    var bar = document.createElement("progress");
    bar.max = 100;
    bar.value = 0;
    bar.setAttribute("aria-label", file.name);
    var message = document.createElement("span");
    message.className = "upload-message";
    message.textContent = words().sending || "";
    item.append(name, bar, message);
    list.prepend(item);
    return { item: item, bar: bar, message: message };
  }

  function showResult(row, result) {
    row.bar.remove();
    if (result.ok) {
      row.item.classList.add("upload-ok");
      row.item.dataset.documentId = result.document_id;
      var link = document.createElement("a");
      link.href = result.url;
      link.textContent = words().open || "open";
      row.message.textContent = result.unchanged ? words().unchanged : words().stored;
      row.item.insertBefore(link, row.message);
    } else {
      row.item.classList.add("upload-failed");
      row.message.classList.add("dz-error");
      row.message.dataset.code = result.code || "";
      row.message.setAttribute("role", "alert");
      row.message.textContent = result.error;
    }
  }

  function uploadFiles(form, files) {
    var list = document.getElementById("upload-queue");
    var maxBytes = parseInt(form.dataset.maxBytes || "0", 10);
    Array.prototype.forEach.call(files, function (file) {
      var row = queueItem(list, file);
      if (maxBytes && file.size > maxBytes) {
        showResult(row, { ok: false, code: "too_large", error: words().tooLarge });
        return;
      }
      var data = new FormData();
      ["domain", "access", "share", "note"].forEach(function (field) {
        var input = form.elements[field];
        if (input) { data.append(field, input.value); }
      });
      data.append("file", file, file.name);
      send(form.dataset.api, data, csrfToken(form), function (percent) { row.bar.value = percent; },
        function (status, body) { showResult(row, firstResult(status, body)); });
    });
  }

  function initUploadPage(form) {
    var zone = document.getElementById("dropzone");
    var input = form.querySelector("input[type=file]");
    ["dragenter", "dragover"].forEach(function (name) {
      zone.addEventListener(name, function (event) {
        event.preventDefault();
        zone.classList.add("dz-over");
      });
    });
    ["dragleave", "drop"].forEach(function (name) {
      zone.addEventListener(name, function () { zone.classList.remove("dz-over"); });
    });
    zone.addEventListener("drop", function (event) {
      event.preventDefault();
      if (event.dataTransfer && event.dataTransfer.files.length) { uploadFiles(form, event.dataTransfer.files); }
    });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (input.files.length) {
        uploadFiles(form, input.files);
        input.value = "";
      }
    });
  }

  /* -- new versions on the document page ------------------------------------------------------ */

  function refreshParts() {
    // The live stream normally does this; after our own upload we do not wait for it.
    if (!window.htmx) { return; }
    document.querySelectorAll(".doc-part[hx-get]").forEach(function (part) {
      window.htmx.ajax("GET", part.getAttribute("hx-get"), { target: part, swap: "outerHTML" });
    });
  }

  function initVersionForm(form) {
    var bar = form.querySelector(".upload-progress");
    var status = form.querySelector(".upload-status");
    form.addEventListener("submit", function (event) {
      var input = form.querySelector("input[type=file]");
      if (!input.files.length) { return; }
      event.preventDefault();
      var maxBytes = parseInt(form.dataset.maxBytes || "0", 10);
      status.classList.remove("dz-error");
      if (maxBytes && input.files[0].size > maxBytes) {
        status.classList.add("dz-error");
        status.textContent = form.dataset.tooLarge || "too large";
        return;
      }
      bar.hidden = false;
      bar.value = 0;
      send(form.action, new FormData(form), csrfToken(form), function (percent) { bar.value = percent; },
        function (code, body) {
          var result = firstResult(code, body);
          bar.hidden = true;
          if (result.code === "stale_base" && result.url) {
            window.location.assign(result.url);  // the conflict page: both files kept, the uploader chooses
            return;
          }
          if (result.ok) {
            status.textContent = (result.unchanged ? form.dataset.unchanged : form.dataset.stored) || "";
            form.reset();
            var base = form.querySelector("input[name=base_version]");
            if (base && result.number) { base.value = result.number; }  // our version is the next one's base
            refreshParts();
          } else {
            status.classList.add("dz-error");
            status.dataset.code = result.code || "";
            status.textContent = result.error;
          }
        });
    });
  }

  function init() {
    var page = document.getElementById("upload-form");
    if (page) { initUploadPage(page); }
    document.querySelectorAll("form[data-xhr-upload]").forEach(initVersionForm);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
