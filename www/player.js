// Drawing over time: playing a run (the time cursor sweeps from where it is to the end of the
// run, one animation frame at a time) and redrawing at most once a frame. Shared by the
// playground and the embed.

/** How long playing takes to sweep the cursor through the whole run. */
export const PLAY_SWEEP_MS = 12_000;

/**
 * Starts playing. `state` holds `figures` (the drawn run), `cursor_s` and `playing`; `button`
 * is the play/pause button; `onFrame` redraws at the new cursor. The loop ends itself on
 * pause (`stopPlaying`), at the end of the run, or when the results disappear.
 */
export function startPlaying(state, button, onFrame) {
  const figures = state.figures;
  if (!figures) return;
  const duration_s = figures.duration_s;
  if (state.cursor_s >= duration_s - figures.bucket_s) state.cursor_s = 0;
  state.playing = true;
  button.textContent = '❚❚';
  button.setAttribute('aria-label', 'Pause');
  let last = performance.now();
  const frame = (now) => {
    if (!state.playing || !state.figures) return;
    state.cursor_s = Math.min(duration_s, state.cursor_s + ((now - last) / PLAY_SWEEP_MS) * duration_s);
    last = now;
    onFrame();
    if (state.cursor_s >= duration_s) stopPlaying(state, button);
    else requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
}

export function stopPlaying(state, button) {
  state.playing = false;
  button.textContent = '▶';
  button.setAttribute('aria-label', 'Play the run');
}

/**
 * A function that calls `draw` at the next animation frame, once however often it is called
 * before then (resizes and scrubbing ask many times a frame).
 */
export function drawAtNextFrame(draw) {
  let pending = false;
  return () => {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      draw();
    });
  };
}
