"""The web demo's page and script (kept in Python so that they ship without package data)."""

from __future__ import annotations

__all__ = ["PAGE", "SCRIPT"]

PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>textedit — edit an image with a description</title>
<style>
[hidden] { display: none !important; }  /* the panels' display:flex must not show them while hidden */
body { font-family: system-ui, sans-serif; max-width: 62rem; margin: 1.5rem auto; padding: 0 1rem; color: #222; }
form { display: grid; gap: .6rem; grid-template-columns: 1fr; max-width: 40rem; }
label { display: flex; gap: .5rem; align-items: center; }
input[type=text] { font-size: 1rem; padding: .4rem; flex: 1; }
button { font-size: 1rem; padding: .4rem 1rem; width: fit-content; }
#error { color: #b00020; white-space: pre-wrap; }
#notes { color: #8a4b00; }
.panels { display: flex; flex-wrap: wrap; gap: 1rem; margin-top: 1rem; }
figure { margin: 0; }
figure img { width: 256px; height: 256px; image-rendering: pixelated; border: 1px solid #ccc; }
figcaption { font-size: .9rem; color: #444; }
#explanation img { max-width: 100%; border: 1px solid #ccc; }
.small { font-size: .85rem; color: #555; }
</style>
</head>
<body>
<h1>textedit</h1>
<p>Upload an image, describe how it should look, and see the edit and where the model put
it (the model's edit map, when it has one: bright = edited, dark = kept). <span class="small" id="model"></span></p>
<form id="form">
  <label>Image <input type="file" id="file" accept="image/*"></label>
  <label>Description <input type="text" id="text" maxlength="1000"
    placeholder="this bird has a red head and white wings"></label>
  <button type="submit" id="submit">Edit</button>
</form>
<p id="status" role="status"></p>
<p id="error" role="alert"></p>
<p id="notes"></p>
<div class="panels" id="result" hidden>
  <figure><img id="input" alt="the input as the model saw it"><figcaption>input (as the model saw it)</figcaption></figure>
  <figure><img id="edited" alt="the edited image"><figcaption>edited</figcaption></figure>
  <figure id="map-figure"><img id="map" alt="edit map"><figcaption>edit map (where the edit went)</figcaption></figure>
</div>
<details id="explanation" hidden><summary>Explanation: boundary map, coarse image, attention of each word</summary>
  <img id="figure" alt="explanation figure">
</details>
<script src="/app.js"></script>
</body>
</html>
"""

SCRIPT = """'use strict';
const $ = (id) => document.getElementById(id);
let maxBytes = 0;

fetch('/api/info').then((r) => r.json()).then((info) => {
  maxBytes = info.max_upload_bytes;
  $('model').textContent = `Model: ${info.model} (${info.image_size} px; uploads up to ${info.max_upload_mb} MB).`;
});

function fail(message) {
  $('status').textContent = '';
  $('error').textContent = message;
  $('submit').disabled = false;
}

$('form').addEventListener('submit', async (event) => {
  event.preventDefault();
  $('error').textContent = '';
  $('notes').textContent = '';
  const file = $('file').files[0];
  const text = $('text').value.trim();
  if (!file) return fail('Choose an image first.');
  if (!text) return fail('Type a description, e.g. "this bird has a red head".');
  if (maxBytes && file.size > maxBytes) {
    return fail(`${file.name} is ${(file.size / 1e6).toFixed(1)} MB; the limit is ${maxBytes / 1e6} MB. Choose a smaller image.`);
  }
  $('submit').disabled = true;
  $('status').textContent = 'Editing…';
  let response, data;
  try {
    const query = new URLSearchParams({ text: text, name: file.name });
    response = await fetch('/api/edit?' + query, { method: 'POST', body: file,
      headers: { 'Content-Type': 'application/octet-stream' } });
    data = await response.json();
  } catch (err) {
    return fail('The server did not answer (' + err + '). Is textedit serve still running?');
  }
  if (!response.ok) return fail(data.error || ('Error ' + response.status));
  $('input').src = data.input;
  $('edited').src = data.edited;
  $('map').src = data.map || '';
  $('map-figure').hidden = !data.map;
  $('figure').src = data.explanation;
  $('notes').textContent = (data.warnings || []).join(' ');
  $('result').hidden = false;
  $('explanation').hidden = false;
  $('status').textContent = 'Done: the model read ' + data.words.join(' ');
  $('submit').disabled = false;
});
"""
