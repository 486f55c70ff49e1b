"""Authentication of the public channel: Wegman-Carter tags over each party's transcript.

Every message a party sends or receives is absorbed, in order, into a polynomial hash over
GF(2^64) (:mod:`qit4n.postprocess.gf64`) under ``hashes`` secret keys drawn once from the
pre-shared key. At the end of a frame each party sends the hash of its transcript XORed with fresh
one-time-pad bits; the other checks it against its own transcript. A transcript of ``L`` words is
forged with probability at most ``(L / 2^64)^hashes`` per tag (the family is epsilon-almost strongly
universal once padded). Hash keys are recycled (Wegman and Carter; Portmann); the pads are spent,
``64 * hashes`` bits per tag, two tags per frame, and the pool is refilled from distilled key, so
authentication costs key that the pipeline subtracts from the net key.

:class:`MessageAuthenticator` tags independent messages the same way (one recycled hash key, a fresh
pad per tag): the key management service uses it to authenticate key relay messages with link key.

References
----------
Wegman, M. N. and Carter, J. L., J. Comput. Syst. Sci. 22, 265 (1981), doi:10.1016/0022-0000(81)90033-7.
Portmann, C., IEEE Trans. Inf. Theory 60, 4383 (2014), doi:10.1109/TIT.2014.2317312 (key recycling).
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass

import numpy as np

from qit4n.errors import InsufficientKeyError, ParameterError
from qit4n.postprocess.bits import bits_to_int
from qit4n.postprocess.channel import Message, MessageKind, PublicChannel, Role, kind_of
from qit4n.postprocess.gf64 import WORD_BITS, bytes_to_framed_words, key_tables, poly_hash_words

__all__ = ["AuthenticationResult", "KeyPool", "MessageAuthenticator", "TranscriptAuthenticator", "authenticate_frame"]


class KeyPool:
    """Pre-shared secret bits, consumed from the front and refilled at the back.

    >>> pool = KeyPool(np.ones(100, dtype=np.uint8))
    >>> pool.take(64).size, pool.available_bits, pool.consumed_bits
    (64, 36, 64)
    """

    def __init__(self, bits: np.ndarray) -> None:
        self._bits = np.asarray(bits, dtype=np.uint8).copy()
        self.consumed_bits = 0

    @property
    def available_bits(self) -> int:
        """Bits left in the pool."""
        return int(self._bits.size)

    def take(self, num_bits: int) -> np.ndarray:
        """Remove and return the next ``num_bits`` bits; :class:`InsufficientKeyError` if too few."""
        if num_bits > self._bits.size:
            raise InsufficientKeyError(f"authentication key pool holds {self._bits.size} bits: {num_bits} needed")
        taken, self._bits = self._bits[:num_bits], self._bits[num_bits:]
        self.consumed_bits += num_bits
        return taken

    def replenish(self, bits: np.ndarray) -> None:
        """Append distilled key bits."""
        self._bits = np.concatenate([self._bits, np.asarray(bits, dtype=np.uint8)])


class TranscriptAuthenticator:
    """One party's hash of the transcript, keyed from its copy of the pre-shared pool.

    Use :meth:`absorb` as the party's channel listener.
    """

    def __init__(self, pool: KeyPool, hashes: int = 2) -> None:
        if hashes < 1:
            raise ParameterError(f"hashes = {hashes}: must be >= 1")
        self.pool = pool
        keys = [bits_to_int(pool.take(WORD_BITS)) | 1 for _ in range(hashes)]
        self._tables = [key_tables(key) for key in keys]
        self._states = [0] * hashes
        self.words = 0

    def absorb(self, data: bytes) -> None:
        """Add one message's bytes to the transcript (tag messages themselves are not absorbed)."""
        if kind_of(data) is MessageKind.AUTH_TAG:
            return
        words = bytes_to_framed_words(data)
        self.words += words.size
        self._states = [poly_hash_words(tables, words, state) for tables, state in zip(self._tables, self._states)]

    def tag(self) -> np.ndarray:
        """Hash of the transcript so far XOR fresh pad bits (``64 * hashes`` bits, pad consumed)."""
        values = np.array(self._states, dtype=np.uint64)
        bits = np.unpackbits(values.view(np.uint8), bitorder="little")
        return bits ^ self.pool.take(bits.size)

    def forgery_bound(self) -> float:
        """Probability that a different transcript of the same length passes one tag."""
        return (self.words / 2.0**WORD_BITS) ** len(self._tables)


class MessageAuthenticator:
    """Wegman-Carter tags of independent messages: recycled hash keys, a fresh one-time pad per tag.

    ``hash_key`` (8 bytes per hash) is drawn once from shared secret key and reused for every
    message; a tag is the polynomial hash of each message over GF(2^64), one word per hash, XOR
    ``tag_bytes`` bytes of pad that must never be used again. A forger who saw any number of tags
    passes one of its own with probability at most :meth:`forgery_bound` per try.

    >>> mac = MessageAuthenticator(bytes(range(1, 17)))
    >>> tag = mac.tag(b"relay", pad=bytes(16))
    >>> mac.verify(b"relay", pad=bytes(16), tag=tag), mac.verify(b"relax", pad=bytes(16), tag=tag)
    (True, False)
    """

    def __init__(self, hash_key: bytes) -> None:
        word_bytes = WORD_BITS // 8
        if not hash_key or len(hash_key) % word_bytes:
            raise ParameterError(f"hash_key = {len(hash_key)} bytes: must be a positive multiple of {word_bytes}")
        keys = [int.from_bytes(hash_key[i : i + word_bytes], "little") for i in range(0, len(hash_key), word_bytes)]
        self._tables = [key_tables(key) for key in keys]
        self.tag_bytes = len(hash_key)

    def digest(self, data: bytes) -> bytes:
        """The hashes of ``data`` (before the pad), ``tag_bytes`` bytes."""
        words = bytes_to_framed_words(data)
        return b"".join(poly_hash_words(tables, words).to_bytes(WORD_BITS // 8, "little") for tables in self._tables)

    def tag(self, data: bytes, *, pad: bytes) -> bytes:
        """The tag of ``data`` under the one-time ``pad`` (``tag_bytes`` bytes, spent by this call)."""
        if len(pad) != self.tag_bytes:
            raise ParameterError(f"pad = {len(pad)} bytes: must be {self.tag_bytes}")
        return bytes(a ^ b for a, b in zip(self.digest(data), pad))

    def verify(self, data: bytes, *, pad: bytes, tag: bytes) -> bool:
        """Whether ``tag`` is the tag of ``data`` under ``pad`` (constant-time comparison)."""
        return hmac.compare_digest(self.tag(data, pad=pad), tag)

    def forgery_bound(self, num_bytes: int) -> float:
        """Probability that one forged message of at most ``num_bytes`` bytes passes (per try)."""
        words = -(-num_bytes // (WORD_BITS // 8)) + 1
        return float((words / 2.0**WORD_BITS) ** len(self._tables))


@dataclass(frozen=True)
class AuthenticationResult:
    """Whether both tags verified, the pad bits spent this frame and the forgery bound."""

    passed: bool
    key_bits_consumed: int
    forgery_probability: float


def authenticate_frame(
    alice: TranscriptAuthenticator, bob: TranscriptAuthenticator, channel: PublicChannel
) -> AuthenticationResult:
    """Exchange transcript tags (Alice first, then Bob); each side checks the other's.

    Tags are computed before they are sent, so tag messages are not part of the transcripts.
    """
    before = alice.pool.consumed_bits + bob.pool.consumed_bits
    alice_tag = alice.tag()
    received = channel.send(
        Message(MessageKind.AUTH_TAG, Role.ALICE, public={"tag": np.packbits(alice_tag, bitorder="little")})
    )
    expected_by_bob = bob.tag()
    bob_ok = bool(np.array_equal(np.packbits(expected_by_bob, bitorder="little"), received.public["tag"]))
    bob_tag = bob.tag()
    expected_by_alice = alice.tag()
    reply = channel.send(
        Message(MessageKind.AUTH_TAG, Role.BOB, public={"tag": np.packbits(bob_tag, bitorder="little")})
    )
    alice_ok = bool(np.array_equal(np.packbits(expected_by_alice, bitorder="little"), reply.public["tag"]))
    consumed = (alice.pool.consumed_bits + bob.pool.consumed_bits - before) // 2
    return AuthenticationResult(alice_ok and bob_ok, consumed, max(alice.forgery_bound(), bob.forgery_bound()))
