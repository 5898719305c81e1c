// fieldgate/vue: a plugin with `v-can` and composables, reactive to new bundles.
import { computed, inject, shallowRef, unref, watchEffect } from 'vue';

const KEY = Symbol('fieldgate');

/** Creates the plugin: `app.use(createFieldgate({ engine, subject }))`. */
export function createFieldgate({ engine, subject }) {
  const current = shallowRef(unref(subject));
  const session = shallowRef(engine.session(current.value));
  engine.onUpdate(() => { session.value = engine.session(current.value); });
  const api = {
    engine,
    session,
    setSubject(s) { current.value = s; session.value = engine.session(s); },
  };
  const allowed = (value) => {
    // `v-can="'edit:customer'"` or `v-can="{ action, resource, record, context }"`.
    const [action, resource] = typeof value === 'string' ? value.split(':') : [];
    const v = typeof value === 'string' ? { action, resource } : value;
    return session.value.can(v.action, v.resource, v.record, v.context);
  };
  const show = (el, ok) => { el.hidden = !ok; };
  return {
    ...api,
    install(app) {
      app.provide(KEY, api);
      app.config.globalProperties.$fieldgate = api;
      app.directive('can', {
        mounted(el, binding) {
          el.__fieldgateStop = watchEffect(() => show(el, allowed(binding.value)));
        },
        updated(el, binding) { show(el, allowed(binding.value)); },
        unmounted(el) { el.__fieldgateStop?.(); },
        getSSRProps(binding) { return allowed(binding.value) ? {} : { hidden: true }; },
      });
    },
  };
}

/** The plugin's API inside a component. */
export function useFieldgate() {
  const api = inject(KEY, null);
  if (!api) throw new Error('fieldgate/vue: install createFieldgate(...) first');
  return api;
}

/** Field states in `mode`, recomputed when the arguments (refs allowed) or the bundle change. */
export function useFields(resource, mode, record, context, api = useFieldgate()) {
  return computed(() => api.session.value.fields(unref(resource), unref(mode), unref(record), unref(context)));
}

/** Whether an action is allowed, reactive like `useFields`. */
export function useCan(action, resource, record, context, api = useFieldgate()) {
  return computed(() => api.session.value.can(unref(action), unref(resource), unref(record), unref(context)));
}
