/* dzbuild-index.js: the index's filter (templates/index.html). The index is split into pages of plain
 * links, which work without JavaScript; with it, the form #filter appears and finds images by name on any
 * page: it fetches the list of every image (_dzbuild/index.json: title, url relative to the site's root,
 * thumbnail relative to url, width, height) once, on first use, and shows the matching cards in place of
 * the page's own. Every word typed must occur in an image's title or folder path, ignoring case. A search URL
 * (?q=words, what the form submits) opens with its results shown.
 */
(function () {
  "use strict";
  var SHOWN = 120;  // cards shown at most, like one page of the index
  var form = document.getElementById("filter");
  if (!form || !window.fetch) return;
  var input = document.getElementById("filter-words");
  var status = document.getElementById("filter-status");
  var found = document.getElementById("filter-found");
  var results = document.getElementById("filter-results");
  var browse = document.getElementById("browse");
  var root = form.dataset.root;
  var list = null;  // the promise of every image, fetched once
  var asked = 0;  // the latest search: an older one finishing late shows nothing

  function images() {
    list = list || fetch(form.dataset.list).then(function (response) {
      if (!response.ok) throw new Error("HTTP " + response.status);
      return response.json();
    }).then(function (data) { return data.images; });
    return list;
  }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function card(image) {  // the same markup as the page's own cards
    var link = element("a", "card");
    link.href = root + image.url;
    var thumb = element("span", "thumb");
    var picture = element("img");
    picture.src = root + image.url + image.thumbnail;
    picture.alt = "";
    picture.loading = "lazy";
    thumb.appendChild(picture);
    var text = element("span", "card-text");
    text.appendChild(element("span", "card-title", image.title));
    text.appendChild(element("span", "meta", image.width + " \u00d7 " + image.height + " px"));
    link.appendChild(thumb);
    link.appendChild(text);
    return link;
  }

  function matches(words) {
    return function (image) {
      var name = (image.title + " " + decodeURIComponent(image.url)).toLowerCase();
      return words.every(function (word) { return name.indexOf(word) !== -1; });
    };
  }

  function show(searching) {
    found.hidden = !searching;
    browse.hidden = searching;
  }

  function search() {
    var words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
    var mine = ++asked;
    if (!words.length) {
      status.textContent = "";
      results.replaceChildren();
      show(false);
      return;
    }
    images().then(function (all) {
      if (mine !== asked) return;
      var hits = all.filter(matches(words));
      results.replaceChildren.apply(results, hits.slice(0, SHOWN).map(card));
      status.textContent = hits.length === 0 ? "No image matches."
        : hits.length > SHOWN ? hits.length + " images match; the first " + SHOWN + " are shown."
        : hits.length === 1 ? "1 image matches." : hits.length + " images match.";
      show(true);
    }, function (error) {
      list = null;  // try again on the next keystroke
      if (mine === asked) status.textContent = "The list of images could not be loaded (" + error.message + ").";
    });
  }

  form.hidden = false;
  input.addEventListener("input", search);
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    search();
  });
  var words = new URLSearchParams(location.search).get("q");
  if (words) {
    input.value = words;
    search();
  }
}());
