// kaohe workbench: uploads one file at a time (each result shows as soon as it is read) and
// follows long steps. No inline script anywhere: the Content-Security-Policy forbids it.
"use strict";

function row(table, line) {
  const body = table.querySelector("tbody");
  const tr = document.createElement("tr");
  tr.className = line.kind || "";
  for (const text of [line.file, line.word, line.text]) {
    const td = document.createElement("td");
    td.textContent = text; // text, never HTML
    tr.appendChild(td);
  }
  body.appendChild(tr);
  table.hidden = false;
}

async function sendAll(form, files) {
  const table = document.querySelector("[data-results]");
  for (const file of files) {
    const data = new FormData();
    data.append("csrf", form.dataset.csrf);
    data.append("file", file, file.name);
    const pending = { file: file.name, word: "读取中", text: "", kind: "" };
    row(table, pending);
    const last = table.querySelector("tbody").lastElementChild;
    try {
      const response = await fetch(form.dataset.upload, { method: "POST", body: data, credentials: "same-origin" });
      const answer = await response.json().catch(() => ({ error: "服务器没有给出结果（" + response.status + "）" }));
      last.remove();
      if (answer.error) {
        row(table, { file: file.name, word: "未上传", text: answer.error, kind: "bad" });
      } else {
        for (const line of answer.lines) row(table, line);
      }
    } catch (error) {
      last.remove();
      row(table, { file: file.name, word: "未上传", text: "网络中断，请重试", kind: "bad" });
    }
  }
}

function setUpUpload(form) {
  const input = form.querySelector("[data-files]");
  const zone = form.querySelector(".dropzone");
  input.addEventListener("change", () => { sendAll(form, Array.from(input.files)); input.value = ""; });
  zone.addEventListener("keydown", (event) => { if (event.key === "Enter" || event.key === " ") { event.preventDefault(); input.click(); } });
  zone.addEventListener("dragover", (event) => { event.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("over");
    sendAll(form, Array.from(event.dataTransfer.files));
  });
}

async function follow(box) {
  const words = { running: "正在进行……", done: "已完成", failed: "未完成" };
  for (;;) {
    const response = await fetch("/api/jobs/" + box.dataset.job, { credentials: "same-origin" });
    if (!response.ok) return;
    const job = await response.json();
    box.querySelector("[data-state]").textContent = words[job.state] || job.state;
    const bar = box.querySelector("[data-progress]");
    bar.max = job.total || 1;
    bar.value = job.state === "running" ? job.done : bar.max;
    const lines = box.querySelector("[data-lines]");
    lines.replaceChildren(...job.lines.map((text) => { const li = document.createElement("li"); li.textContent = text; return li; }));
    const links = box.querySelector("[data-links]");
    links.replaceChildren(...job.links.map(([label, path]) => {
      const li = document.createElement("li");
      const a = document.createElement("a");
      a.href = "/download?path=" + encodeURIComponent(path);
      a.textContent = label;
      li.appendChild(a);
      return li;
    }));
    if (job.state !== "running") return;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-upload]").forEach(setUpUpload);
  const job = document.querySelector("[data-job]");
  if (job) follow(job);
  document.querySelectorAll("textarea.copy, input.copy").forEach((el) => el.addEventListener("focus", () => el.select()));
});
