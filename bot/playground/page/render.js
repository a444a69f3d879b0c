// Telegram's HTML parse mode drawn as DOM nodes, never through innerHTML: only the tags
// Telegram allows become elements; anything else (a person's "<script>" included) stays text.

const TAGS = {
  b: "b", strong: "b", i: "i", em: "i", u: "u", ins: "u", s: "s", strike: "s", del: "s",
  a: "a", code: "code", pre: "pre", span: "span", "tg-spoiler": "span", blockquote: "blockquote",
  "tg-emoji": "span",
};
const TOKEN = /<(\/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[^<>]*?)?)\s*\/?>|&(lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);/g;
const NAMED = { lt: "<", gt: ">", amp: "&", quot: '"' };

function entity(name) {
  if (name in NAMED) return NAMED[name];
  const code = name.startsWith("#x") ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
  try {
    return String.fromCodePoint(code);
  } catch {
    return "\uFFFD";
  }
}

function attribute(attrs, name) {
  const match = new RegExp(`${name}\\s*=\\s*("([^"]*)"|'([^']*)'|([^\\s"'>]+))`, "i").exec(attrs);
  if (!match) return null;
  const raw = match[2] ?? match[3] ?? match[4] ?? "";
  return raw.replace(/&(lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);/g, (_, n) => entity(n));
}

function safeHref(href) {
  if (!href) return null;
  try {
    const url = new URL(href, "https://t.me/");
    return ["http:", "https:", "tg:", "mailto:"].includes(url.protocol) ? url.href : null;
  } catch {
    return null;
  }
}

/** Append Telegram-HTML `text` to `parent` as elements and text nodes. */
export function appendTelegramHtml(parent, text) {
  const stack = [{ node: parent, tag: null }];
  const top = () => stack[stack.length - 1].node;
  let last = 0;
  for (const match of text.matchAll(TOKEN)) {
    if (match.index > last) top().append(document.createTextNode(text.slice(last, match.index)));
    last = match.index + match[0].length;
    if (match[4] !== undefined) {
      top().append(document.createTextNode(entity(match[4])));
      continue;
    }
    const closing = match[1] === "/";
    const tag = match[2].toLowerCase();
    if (!(tag in TAGS)) {
      top().append(document.createTextNode(match[0]));
      continue;
    }
    if (closing) {
      const at = stack.map((s) => s.tag).lastIndexOf(tag);
      if (at > 0) stack.length = at;
      continue;
    }
    const element = document.createElement(TAGS[tag]);
    if (tag === "a") {
      const href = safeHref(attribute(match[3], "href"));
      if (href) {
        element.href = href;
        element.target = "_blank";
        element.rel = "noopener noreferrer";
      }
    }
    if (tag === "tg-spoiler" || (tag === "span" && attribute(match[3], "class") === "tg-spoiler")) {
      element.className = "spoiler";
      element.addEventListener("click", () => element.classList.add("revealed"));
    }
    top().append(element);
    stack.push({ node: element, tag });
  }
  if (last < text.length) top().append(document.createTextNode(text.slice(last)));
}

/** The text as a person reads it (tags dropped, entities decoded): for previews. */
export function plainText(text, html) {
  if (!html) return text;
  return text
    .replace(/<\/?[a-zA-Z][a-zA-Z0-9-]*(?:\s+[^<>]*?)?\s*\/?>/g, "")
    .replace(/&(lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);/g, (_, n) => entity(n));
}
