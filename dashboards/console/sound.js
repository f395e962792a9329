// Optional audible cue (off by default): a short two-tone beep through Web Audio. Browsers only
// allow audio after a user gesture, so the context is created when the operator ticks the box.
let ctx = null;

/** Turns the cue on (creating the audio context inside the click) or off. */
export function setSound(on) {
  if (on && !ctx) ctx = new AudioContext();
  if (ctx) (on ? ctx.resume() : ctx.suspend()).catch(() => {});
  document.body.dataset.sound = on ? 'on' : 'off';
}

/** One beep when the cue is on; does nothing otherwise. */
export function beep() {
  if (ctx?.state !== 'running') return;
  const t = ctx.currentTime;
  for (const [i, f] of [880, 660].entries()) {
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    osc.frequency.value = f;
    gain.gain.setValueAtTime(0.2, t + i * 0.18);
    gain.gain.exponentialRampToValueAtTime(0.001, t + i * 0.18 + 0.16);
    osc.connect(gain).connect(ctx.destination);
    osc.start(t + i * 0.18);
    osc.stop(t + i * 0.18 + 0.17);
  }
}
