/**
 * The inbox page: plain HTML, CSS and browser JavaScript, kept as text so the compiled app serves
 * them with no build step and no files to copy. It is the model for a front end of one's own:
 * open the stream first, load the list once the first count arrives (so nothing falls between
 * the two), show text only as text, and follow only http(s) links.
 */
export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Inbox</title>
<link rel="stylesheet" href="inbox/inbox.css">
</head>
<body>
<header>
  <h1>Inbox <span id="count" class="badge" aria-live="polite" title="unread">&hellip;</span></h1>
  <button id="read-all" type="button" disabled>Mark all read</button>
</header>
<p id="status" role="status"></p>
<ul id="messages"></ul>
<button id="more" type="button" hidden>Load more</button>
<script src="inbox/inbox.js"></script>
</body>
</html>
`

export const PAGE_CSS = `
:root { font-family: system-ui, sans-serif; color: #1d2330; background: #f4f5f8; }
body { max-width: 40rem; margin: 2rem auto; padding: 0 1rem; }
header { display: flex; align-items: center; justify-content: space-between; }
h1 { font-size: 1.4rem; }
.badge { display: inline-block; min-width: 1.6em; padding: 0 .4em; border-radius: 1em; background: #c62828; color: #fff; text-align: center; font-size: .9rem; }
.badge.zero { background: #9aa0ab; }
#status { color: #5b6270; min-height: 1.2em; }
ul { list-style: none; padding: 0; }
li.message { background: #fff; border-radius: .5rem; padding: .8rem 1rem; margin-bottom: .6rem; border-left: .3rem solid transparent; cursor: pointer; }
li.message.unread { border-left-color: #1565c0; }
li.message.unread .title { font-weight: 700; }
li.message .text { margin: .3rem 0; white-space: pre-wrap; }
li.message time { color: #5b6270; font-size: .8rem; }
li.message a { margin-left: .8rem; font-size: .9rem; }
li.message:focus { outline: 2px solid #1565c0; }
button { font: inherit; padding: .3rem .8rem; }
`

export const PAGE_JS = `(function () {
  'use strict'
  var params = new URLSearchParams(location.search)
  var recipient = params.get('recipient')
  var token = params.get('token')
  var base = new URL('.', location.href)
  var list = document.getElementById('messages')
  var countEl = document.getElementById('count')
  var statusEl = document.getElementById('status')
  var moreBtn = document.getElementById('more')
  var readAllBtn = document.getElementById('read-all')
  var shown = new Map()
  var nextCursor = null

  function say (text) { statusEl.textContent = text }
  if (!recipient || !token) {
    say('Open this page as inbox?recipient=<id>&token=<token>; a token comes from POST /recipients/<id>/inbox-token.')
    return
  }
  var inboxPath = 'inbox/' + encodeURIComponent(recipient)

  function api (method, path) {
    return fetch(new URL(inboxPath + path, base), { method: method, headers: { authorization: 'Bearer ' + token } })
      .then(function (res) {
        if (res.status === 401) throw new Error('The token is invalid or expired: ask your back end for a new one.')
        if (!res.ok) throw new Error('The server answered ' + res.status)
        return res.json()
      })
  }

  function setCount (n) {
    countEl.textContent = String(n)
    countEl.classList.toggle('zero', n === 0)
    readAllBtn.disabled = n === 0
  }

  function safeUrl (url) {
    try {
      var u = new URL(url)
      return u.protocol === 'https:' || u.protocol === 'http:' ? u.href : null
    } catch (e) { return null }
  }

  function render (item) {
    var li = document.createElement('li')
    li.className = 'message'
    li.tabIndex = 0
    li.dataset.id = item.id
    var title = document.createElement('div')
    title.className = 'title'
    title.textContent = item.title || ''
    var text = document.createElement('p')
    text.className = 'text'
    text.textContent = item.text
    var time = document.createElement('time')
    time.dateTime = item.createdAt
    time.textContent = new Date(item.createdAt).toLocaleString()
    li.append(title, text, time)
    var href = item.url && safeUrl(item.url)
    if (href) {
      var a = document.createElement('a')
      a.href = href
      a.target = '_blank'
      a.rel = 'noopener noreferrer'
      a.textContent = 'Open'
      li.append(a)
    }
    li.addEventListener('click', function () { markRead(item.id) })
    li.addEventListener('keydown', function (e) { if (e.key === 'Enter') markRead(item.id) })
    update(li, item)
    return li
  }

  function update (li, item) {
    li.classList.toggle('unread', !item.readAt)
    li.setAttribute('aria-label', (item.readAt ? '' : 'unread: ') + (item.title || item.text))
  }

  function add (item, atTop) {
    var known = shown.get(item.id)
    if (known) { update(known, item); return }
    var li = render(item)
    shown.set(item.id, li)
    if (atTop) list.prepend(li)
    else list.append(li)
  }

  function markRead (id) {
    var li = shown.get(id)
    if (!li || !li.classList.contains('unread')) return
    api('POST', '/messages/' + encodeURIComponent(id) + '/read')
      .then(function (item) { update(li, item); return api('GET', '/unread-count') })
      .then(function (body) { setCount(body.count) })
      .catch(function (err) { say(err.message) })
  }

  function load (reset) {
    var query = '?limit=20' + (!reset && nextCursor ? '&cursor=' + encodeURIComponent(nextCursor) : '')
    return api('GET', '/messages' + query).then(function (page) {
      if (reset) { list.textContent = ''; shown.clear() }
      page.items.forEach(function (item) { add(item, false) })
      nextCursor = page.nextCursor
      moreBtn.hidden = !nextCursor
      if (shown.size === 0) say('No messages yet.')
      else say('')
    }).catch(function (err) { say(err.message) })
  }

  moreBtn.addEventListener('click', function () { load(false) })
  readAllBtn.addEventListener('click', function () {
    api('POST', '/read-all').then(function (body) {
      shown.forEach(function (li) { li.classList.remove('unread') })
      setCount(body.count)
    }).catch(function (err) { say(err.message) })
  })

  // The list is (re)loaded after each (re)connection's first count, so no message falls in a gap.
  var needsLoad = true
  var stream = new EventSource(new URL(inboxPath + '/stream?token=' + encodeURIComponent(token), base))
  stream.addEventListener('open', function () { needsLoad = true })
  stream.addEventListener('unread-count', function (e) {
    setCount(JSON.parse(e.data).count)
    if (needsLoad) { needsLoad = false; load(true) }
  })
  stream.addEventListener('message', function (e) {
    add(JSON.parse(e.data), true)
    say('')
  })
  stream.addEventListener('error', function () {
    if (stream.readyState === EventSource.CLOSED) {
      say('The live connection was refused: the token may be invalid or expired.')
      if (needsLoad) { needsLoad = false; load(true) }
    } else {
      say('Reconnecting\\u2026')
    }
  })
})()
`
