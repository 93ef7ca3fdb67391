/**
 * Which live block a view is, written on the view itself in private fields
 * (a "stamp"): the handle it belongs to, its offset, its size class and, for
 * a block known by reference, its generation.
 *
 * User code cannot read, change or fake a private field: a copy, a subarray,
 * a Proxy, another pool's view or a look-alike object has no stamp of this
 * handle, and a freed view's stamp says so — a stale view whose offset was
 * reused can never free the new owner's block. Looking a view up this way
 * costs a field load; a Map of live offsets cost two Map writes per
 * malloc/free pair, the largest part of the pair's time.
 */

/** {@link Stamp.generation} of a block not known by reference. */
export const NOT_SHARED = -1
/** {@link Stamp.generation} of anything but a live block of the handle asked about. */
export const NOT_LIVE = -2

/**
 * A block known by reference's generation as its stamp stores it: negative,
 * in the field a size class (≥ 0) takes otherwise. Its own inverse.
 */
const sharedField = (generation: number): number => -generation - 1

/**
 * A base class whose constructor returns its argument: a subclass's private
 * fields are then defined on that object (ECMAScript's "return override").
 */
const ReturnsTarget = function (target: object) {
  return target
} as unknown as new (target: object) => object

/**
 * The private fields every view a pool hands out carries; see the module
 * comment. Three, not four: V8 keeps fields added to an existing object in a
 * property array it allocates three slots at a time, so a fourth field costs
 * a second allocation — about 7 ns per view, a sixth of a 64 B malloc/free
 * pair. The size class and the generation share a field, as a block known by
 * reference never goes to the reuse lists that need its class.
 */
export class Stamp extends ReturnsTarget {
  /** The pool handle whose live block the view is; null once freed. */
  #owner: object | null
  #offset: number
  /** The size class (≥ 0) of a block not known by reference, else `-generation - 1`. */
  #classOrGeneration: number

  private constructor(view: object, owner: object, offset: number, classOrGeneration: number) {
    super(view)
    this.#owner = owner
    this.#offset = offset
    this.#classOrGeneration = classOrGeneration
  }

  /**
   * Stamps `view`, made a moment ago and never handed out, as `owner`'s live
   * block of class `sizeClass`, with the block's `generation` if it is known
   * by reference ({@link NOT_SHARED} if not).
   */
  static mark(view: object, owner: object, offset: number, sizeClass: number, generation: number): void {
    new Stamp(view, owner, offset, generation === NOT_SHARED ? sizeClass : sharedField(generation))
  }

  /**
   * The generation of `view` ({@link NOT_SHARED} when not known by reference)
   * if it is a live block of `owner`, else {@link NOT_LIVE}. Never throws and
   * runs no user code.
   */
  static generation(view: unknown, owner: object): number {
    if (typeof view !== 'object' || view === null || !(#owner in view)) return NOT_LIVE
    if ((view as Stamp).#owner !== owner) return NOT_LIVE
    const classOrGeneration = (view as Stamp).#classOrGeneration
    return classOrGeneration >= 0 ? NOT_SHARED : sharedField(classOrGeneration)
  }

  /** The offset of a stamped view. */
  static offset(view: object): number {
    return (view as Stamp).#offset
  }

  /** The size class (see classOf) of a stamped view not known by reference. */
  static sizeClass(view: object): number {
    return (view as Stamp).#classOrGeneration
  }

  /** Records that a stamped view's block is now known by reference. */
  static share(view: object, generation: number): void {
    ;(view as Stamp).#classOrGeneration = sharedField(generation)
  }

  /** Records that a stamped view's block is no longer this view's (freed or moved). */
  static end(view: object): void {
    ;(view as Stamp).#owner = null
  }

  /**
   * Makes an ended view `owner`'s live block again: for a realloc that
   * ended the view before its native call, when that call failed and the
   * block is still the view's.
   */
  static revive(view: object, owner: object): void {
    ;(view as Stamp).#owner = owner
  }
}
