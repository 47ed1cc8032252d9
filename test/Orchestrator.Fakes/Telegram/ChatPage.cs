namespace Orchestrator.Fakes.Telegram;

/// <summary>The self-contained chat page served at the emulator's <c>/</c> (no CDN): chat with a bot as Alice.</summary>
internal static class ChatPage
{
    public const string Html = """
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Telegram emulator</title>
<style>
  body { font-family: system-ui, sans-serif; margin: 0; background: #e6ebee; }
  header { background: #517da2; color: #fff; padding: 10px 16px; display: flex; gap: 12px; align-items: center; flex-wrap: wrap; }
  header select, header label { font-size: 14px; }
  #log { height: calc(100vh - 130px); overflow-y: auto; padding: 12px 16px; }
  .msg { max-width: 70%; margin: 6px 0; padding: 8px 12px; border-radius: 10px; white-space: pre-wrap; word-wrap: break-word; }
  .user { background: #effdde; margin-left: auto; }
  .bot { background: #fff; }
  .meta { font-size: 11px; color: #888; }
  #typing { height: 18px; padding: 0 16px; color: #517da2; font-style: italic; font-size: 13px; }
  form { display: flex; gap: 8px; padding: 8px 16px; background: #fff; }
  #text { flex: 1; font-size: 15px; padding: 8px; }
  .hint { color: #dfe9f2; font-size: 12px; }
</style>
</head>
<body>
<header>
  <strong>Telegram emulator</strong>
  <label>Bot <select id="bot"></select></label>
  <label>Chat <select id="chat">
    <option value="private">Private chat with Alice</option>
    <option value="group">Demo group</option>
    <option value="topic">Demo forum, topic 1</option>
  </select></label>
  <label><input type="checkbox" id="mention" checked> @mention the bot (groups)</label>
  <span class="hint" id="status"></span>
</header>
<div id="log"></div>
<div id="typing"></div>
<form id="form">
  <input id="text" autocomplete="off" placeholder="Message as Alice…" autofocus>
  <button>Send</button>
</form>
<script>
const chatIds = { private: 42, group: -1001234567890, topic: -1009876543210 };
const $ = id => document.getElementById(id);
let items = [], lastSeq = 0, currentBot = null;

async function loadBots() {
  const bots = await (await fetch('/_emulator/bots')).json();
  const select = $('bot');
  const previous = select.value;
  select.innerHTML = '';
  for (const b of bots.filter(b => !b.revoked)) {
    const o = document.createElement('option');
    o.value = b.id; o.textContent = '@' + b.username;
    select.appendChild(o);
  }
  if (previous && [...select.options].some(o => o.value === previous)) select.value = previous;
  $('status').textContent = bots.length ? '' : 'No bot yet: start the orchestrator (it registers its bots on getMe).';
  if (select.value !== currentBot) { currentBot = select.value; items = []; lastSeq = 0; render(); }
}

function stamp(list) { const now = Date.now(); for (const i of list) i.receivedAt = now; return list; }

async function poll() {
  if (!currentBot) return;
  try {
    const fresh = stamp(await (await fetch(`/_emulator/bots/${currentBot}/timeline?after=${lastSeq}`)).json());
    if (fresh.length) { items.push(...fresh); lastSeq = fresh[fresh.length - 1].seq; render(); }
    else renderTyping();
  } catch { $('status').textContent = 'Emulator unreachable'; }
}

function render() {
  const chatId = chatIds[$('chat').value];
  const log = $('log');
  log.innerHTML = '';
  for (const i of items.filter(i => i.chatId === chatId && i.kind !== 'action')) {
    const div = document.createElement('div');
    div.className = 'msg ' + i.kind;
    div.textContent = i.text;
    const meta = document.createElement('div');
    meta.className = 'meta';
    meta.textContent = (i.kind === 'user' ? 'Alice' : $('bot').selectedOptions[0]?.textContent ?? 'bot') + ' · ' + i.time;
    div.appendChild(meta);
    log.appendChild(div);
  }
  log.scrollTop = log.scrollHeight;
  renderTyping();
}

function renderTyping() {
  const chatId = chatIds[$('chat').value];
  const mine = items.filter(i => i.chatId === chatId);
  const last = mine[mine.length - 1];
  const recent = last && last.kind === 'action' && (Date.now() - last.receivedAt) < 6000;
  $('typing').textContent = recent ? 'bot is ' + last.text + '…' : '';
}

$('form').addEventListener('submit', async e => {
  e.preventDefault();
  const text = $('text').value.trim();
  if (!text || !currentBot) return;
  $('text').value = '';
  const chat = $('chat').value;
  await fetch(`/_emulator/bots/${currentBot}/messages`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ text, chat, mention: chat !== 'private' && $('mention').checked })
  });
  poll();
});
$('bot').addEventListener('change', () => { currentBot = $('bot').value; items = []; lastSeq = 0; render(); });
$('chat').addEventListener('change', render);

loadBots().then(poll);
setInterval(loadBots, 3000);
setInterval(() => poll(), 700);
</script>
</body>
</html>
""";
}
