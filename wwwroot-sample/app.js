// ImagePictures browser sample: the service's own <avatar-editor> and <live-avatar> on one page, plus a
// development sign-in. Everything about pictures (upload, crop, grid, trash, live updates) is the editor's.

const byId = (id) => document.getElementById(id);
const ui = {
  state: document.querySelector('[data-testid="connection-state"]'), error: document.querySelector('[data-testid="sign-in-error"]'),
  app: byId('app'), whoami: byId('whoami'), userId: byId('user-id'), myAvatar: byId('my-avatar'), upload: byId('upload'),
  editor: byId('editor'), watchInput: byId('watch-input'), watched: byId('watched'),
};
let token = { value: null, userId: null, expiresAt: 0 };

function showError(title, detail) {
  ui.error.replaceChildren(Object.assign(document.createElement('strong'), { textContent: title }), detail ? `: ${detail}` : '');
  ui.error.hidden = false;
}

/** A development token (POST /dev/token), renewed a minute before it expires. */
async function tokenFor(userId) {
  if (token.userId === userId && token.value && Date.now() < token.expiresAt - 60_000) return token.value;
  const response = await fetch('/dev/token', {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ userId }),
  });
  const body = await response.json().catch(() => null);
  if (!response.ok) throw Object.assign(new Error(body?.detail || 'No token'), { title: body?.title || 'Sign-in failed' });
  token = { value: body.accessToken, userId, expiresAt: Date.parse(body.expiresAt) };
  return token.value;
}

async function signIn(userId) {
  ui.error.hidden = true;
  if (!userId) { showError('User id required', 'Enter a user id to sign in.'); return; }
  try {
    await tokenFor(userId);
  } catch (e) {
    showError(e.title || 'Sign-in failed', e.message);
    return;
  }
  ui.whoami.textContent = userId;
  ui.myAvatar.setAttribute('user-id', userId);
  ui.editor.setAttribute('user-id', userId);
  ui.editor.tokenProvider = () => tokenFor(userId);
  ui.app.hidden = false;
}

// The editor reflects its hub connection as an attribute: the page's status pill follows it.
function showConnection() {
  const state = ui.editor.getAttribute('connection') || 'disconnected';
  ui.state.textContent = state;
  ui.state.dataset.state = state;
}
new MutationObserver(showConnection).observe(ui.editor, { attributes: true, attributeFilter: ['connection'] });

function watch(userId) {
  if (!userId || ui.watched.querySelector(`[data-user-id="${CSS.escape(userId)}"]`)) return;
  const avatar = document.createElement('live-avatar');
  Object.assign(avatar.dataset, { testid: 'watched-avatar', userId });
  avatar.setAttribute('user-id', userId);
  avatar.setAttribute('size', '96');
  avatar.setAttribute('alt', `Avatar of ${userId}`);
  const unwatch = Object.assign(document.createElement('button'), { type: 'button', textContent: 'Unwatch' });
  unwatch.setAttribute('aria-label', `Unwatch ${userId}`);
  const item = document.createElement('li');
  item.className = 'card watched';
  item.append(avatar, Object.assign(document.createElement('p'), { className: 'title', textContent: userId }), unwatch);
  unwatch.addEventListener('click', () => item.remove());
  ui.watched.append(item);
}

byId('signin-form').addEventListener('submit', (e) => { e.preventDefault(); signIn(ui.userId.value.trim()); });
byId('watch-form').addEventListener('submit', (e) => {
  e.preventDefault();
  watch(ui.watchInput.value.trim());
  ui.watchInput.value = '';
});
// The page's own file input hands the file to the editor, which crops and uploads it.
ui.upload.addEventListener('change', async () => {
  const file = ui.upload.files?.[0];
  ui.upload.value = '';
  if (!file) return;
  await customElements.whenDefined('avatar-editor');
  ui.editor.choose(file);
});
