/** Object.freeze, recursively (arrays, objects, Map/Set contents); typed arrays are left as they are. */
export function deepFreeze<T>(v: T): T {
  const seen = new WeakSet<object>();
  const stack: unknown[] = [v];
  while (stack.length > 0) {
    const cur = stack.pop();
    if (typeof cur !== 'object' || cur === null || seen.has(cur) || ArrayBuffer.isView(cur)) continue;
    seen.add(cur);
    if (cur instanceof Map) for (const e of cur) stack.push(...e);
    else if (cur instanceof Set) stack.push(...cur);
    for (const key of Reflect.ownKeys(cur)) {
      const d = Object.getOwnPropertyDescriptor(cur, key);
      if (d && 'value' in d) stack.push(d.value);
    }
    Object.freeze(cur);
  }
  return v;
}
