// DIVE web console: an ES module served by the instance itself (docs/WEB.md). Sign-in (the authorization
// code flow with PKCE through the console's backend) comes in the next slice; for now the start page shows
// the instance it belongs to and says so when Sign in is pressed.

const $ = (id) => document.getElementById(id);

async function showInstance() {
  try {
    const response = await fetch('/health', { headers: { Accept: 'application/json' } });
    const health = await response.json();
    if (health.instance) $('instance').textContent = `Instance ${health.instance}`;
  } catch {
    // The page works without it.
  }
}

function init() {
  $('sign-in').addEventListener('click', () => {
    $('status').textContent = 'Sign-in is not available on this instance yet.';
  });
  showInstance();
}

if (document.readyState === 'loading') {
  document.addEventListener('DOMContentLoaded', init);
} else {
  init();
}
