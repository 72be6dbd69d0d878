// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {BookingStatus, DepositStatus, Kind} from "../types/ExchangeTypes.sol";

/// @title ICommonsExchangeErrors
/// @notice The custom errors of the CivicDAO commons exchange: the exchange itself and the contracts it created
/// (ExchangeClaims, ExchangeSettings, ExchangeLens), which revert with these same errors.
/// @dev Grouped like OpenZeppelin's `draft-IERC6093.sol`. Value moving in and out reverts with the errors of
/// `CurrencyTransfer` (ICurrencyTransferErrors).
interface ICommonsExchangeErrors {
    /// @dev Indicates that an address argument that must be set (admin, registry, fee sink, recipient, token) is
    /// zero or, for the fee sink and the registry, has no code.
    error ExchangeZeroAddress();

    /// @dev Indicates that `account` is neither a registered citizen nor holds LISTER_ROLE.
    /// @param account The would-be lister.
    error ExchangeNotEligibleLister(address account);

    /// @dev Indicates that `account` is not the lister of `listingId`.
    /// @param listingId The listing.
    /// @param account The caller.
    error ExchangeNotLister(uint256 listingId, address account);

    /// @dev Indicates that `account` is not the renter of `bookingId`.
    /// @param bookingId The booking.
    /// @param account The caller.
    error ExchangeNotRenter(uint256 bookingId, address account);

    /// @dev Indicates a listing id that does not exist.
    /// @param listingId The listing id.
    error ExchangeUnknownListing(uint256 listingId);

    /// @dev Indicates a booking id that does not exist.
    /// @param bookingId The booking id.
    error ExchangeUnknownBooking(uint256 bookingId);

    /// @dev Indicates a payment token that is not on the DAO's allow-list.
    /// @param token The token.
    error ExchangeTokenNotAllowed(address token);

    /// @dev Indicates invalid min/max units of a listing (0, min > max, or max above the hard cap).
    /// @param minUnits The fewest units per booking asked for.
    /// @param maxUnits The most units per booking asked for.
    error ExchangeInvalidUnitRange(uint256 minUnits, uint256 maxUnits);

    /// @dev Indicates an availability window that is empty or already over.
    /// @param availableFrom The window's start.
    /// @param availableUntil The window's end.
    error ExchangeInvalidWindow(uint256 availableFrom, uint256 availableUntil);

    /// @dev Indicates a basis-point value above its bound.
    /// @param bps The value given.
    /// @param max The bound.
    error ExchangeInvalidBps(uint256 bps, uint256 max);

    /// @dev Indicates an ITEM listing with no stock or with a deposit, or a ROOM_HOUSE listing priced per item.
    error ExchangeInvalidItemListing();

    /// @dev Indicates a listing whose metadata URI is empty.
    error ExchangeEmptyMetadata();

    /// @dev Indicates a housing listing whose per-night price equivalent exceeds the DAO's ceiling.
    /// @param perNight The listing's price per night.
    /// @param ceiling The DAO's ceiling in the listing's token.
    error ExchangeHousingPriceTooHigh(uint256 perNight, uint256 ceiling);

    /// @dev Indicates that `lister` already has the DAO's maximum number of active housing listings.
    /// @param lister The lister.
    /// @param cap The DAO's cap.
    error ExchangeHousingCapReached(address lister, uint256 cap);

    /// @dev Indicates a listing that is closed.
    /// @param listingId The listing.
    error ExchangeListingClosed(uint256 listingId);

    /// @dev Indicates a booking of a listing its lister has paused.
    /// @param listingId The listing.
    error ExchangeListingPaused(uint256 listingId);

    /// @dev Indicates that a lister paused/unpaused a listing into the state it already has.
    /// @param listingId The listing.
    /// @param paused The state asked for (and already in force).
    error ExchangeListingPauseUnchanged(uint256 listingId, bool paused);

    /// @dev Indicates a booking of a residents-only listing by a non-citizen.
    /// @param account The would-be renter.
    error ExchangeNotResident(address account);

    /// @dev Indicates that a lister booked their own listing.
    /// @param listingId The listing.
    error ExchangeSelfBooking(uint256 listingId);

    /// @dev Indicates a booking whose units are outside the listing's min/max.
    /// @param units The units asked for.
    /// @param minUnits The listing's minimum.
    /// @param maxUnits The listing's maximum.
    error ExchangeInvalidUnits(uint256 units, uint256 minUnits, uint256 maxUnits);

    /// @dev Indicates a start time not aligned to the listing's unit (counted from `availableFrom`).
    /// @param listingId The listing.
    /// @param start The start time given.
    error ExchangeStartMisaligned(uint256 listingId, uint256 start);

    /// @dev Indicates a booking that would start in the past.
    /// @param start The start time given.
    /// @param nowTime The block's timestamp.
    error ExchangeStartInPast(uint256 start, uint256 nowTime);

    /// @dev Indicates a booking (or purchase time) outside the listing's availability window.
    /// @param listingId The listing.
    /// @param start The booking's start.
    /// @param end The booking's end.
    error ExchangeOutsideWindow(uint256 listingId, uint256 start, uint256 end);

    /// @dev Indicates a requested calendar slot that is already booked.
    /// @param listingId The listing.
    /// @param slot The first taken slot.
    error ExchangeSlotTaken(uint256 listingId, uint256 slot);

    /// @dev Indicates an ITEM purchase asking for more than the remaining stock.
    /// @param listingId The listing.
    /// @param requested The items asked for.
    /// @param available The items left.
    error ExchangeOutOfStock(uint256 listingId, uint256 requested, uint256 available);

    /// @dev Indicates that the fee sink pulled more than the fee (only a token that ignores its allowance allows
    /// that), or, in `flushFees`, less than the pending fees (at settlement a short pull is deferred instead).
    /// @param token The token.
    /// @param expected The fee offered.
    /// @param pulled What the sink took.
    error ExchangeFeeSinkMismatch(address token, uint256 expected, uint256 pulled);

    /// @dev Indicates a booking naming another terms version than the listing's current one: the lister changed
    /// price, deposit or cancellation policy after the renter looked.
    /// @param listingId The listing.
    /// @param expected The terms version the renter saw.
    /// @param current The listing's terms version now.
    error ExchangeTermsChanged(uint256 listingId, uint256 expected, uint256 current);

    /// @dev Indicates a GUARDIAN_ROLE holder (not the DAO) pausing after the guardian expiry.
    /// @param guardian The guardian.
    /// @param expiry The guardian expiry.
    error ExchangeGuardianExpired(address guardian, uint256 expiry);

    /// @dev Indicates a booking that is not in the status the action needs.
    /// @param bookingId The booking.
    /// @param status The booking's status.
    error ExchangeWrongBookingStatus(uint256 bookingId, BookingStatus status);

    /// @dev Indicates a booking whose deposit is not in the status the action needs.
    /// @param bookingId The booking.
    /// @param status The deposit's status.
    error ExchangeWrongDepositStatus(uint256 bookingId, DepositStatus status);

    /// @dev Indicates a cancellation of a booking that has already started (ITEM purchases cannot be cancelled by
    /// the buyer).
    /// @param bookingId The booking.
    /// @param start The booking's start.
    error ExchangeBookingStarted(uint256 bookingId, uint256 start);

    /// @dev Indicates an action that needs the booking's slot (or delivery window) to have ended.
    /// @param bookingId The booking.
    /// @param end The booking's end.
    error ExchangeNotEnded(uint256 bookingId, uint256 end);

    /// @dev Indicates that `settle` found nothing due yet.
    /// @param bookingId The booking.
    error ExchangeNothingToSettle(uint256 bookingId);

    /// @dev Indicates a damage claim raised after the claim window.
    /// @param bookingId The booking.
    /// @param claimUntil The end of the claim window.
    error ExchangeClaimWindowClosed(uint256 bookingId, uint256 claimUntil);

    /// @dev Indicates a claim amount that is 0 or above the deposit.
    /// @param amount The amount claimed.
    /// @param deposit The booking's deposit.
    error ExchangeInvalidClaimAmount(uint256 amount, uint256 deposit);

    /// @dev Indicates an answer or resolution at or after its deadline.
    /// @param bookingId The booking.
    /// @param deadline The deadline.
    error ExchangeDeadlinePassed(uint256 bookingId, uint256 deadline);

    /// @dev Indicates a claim finalized before its deadline.
    /// @param bookingId The booking.
    /// @param deadline The deadline.
    error ExchangeDeadlineNotReached(uint256 bookingId, uint256 deadline);

    /// @dev Indicates a resolver awarding the lister more than was claimed.
    /// @param toLister The award.
    /// @param claimAmount The amount claimed.
    error ExchangeResolutionTooHigh(uint256 toLister, uint256 claimAmount);

    /// @dev Indicates a resolver who is a party (lister or renter) of the booking.
    /// @param bookingId The booking.
    /// @param resolver The resolver.
    error ExchangeResolverIsParty(uint256 bookingId, address resolver);

    /// @dev Indicates a delivery step (shipped, received, non-delivery) on a booking that is not an ITEM purchase.
    /// @param bookingId The booking.
    error ExchangeNotItem(uint256 bookingId);

    /// @dev Indicates that `account` has no credit in `token` to withdraw.
    /// @param account The account.
    /// @param token The token.
    error ExchangeNothingToWithdraw(address account, address token);

    /// @dev Indicates the DAO reclaiming the credit of a membership that someone still holds (its holder
    /// withdraws it).
    /// @param membership The membership.
    error ExchangeMembershipLive(uint256 membership);

    /// @dev Indicates a revoked membership with no credit in `token` to reclaim.
    /// @param membership The membership.
    /// @param token The token.
    error ExchangeNoRevokedCredit(uint256 membership, address token);

    /// @dev Indicates that no deferred fees are pending for `token` and `kind`.
    /// @param token The token.
    /// @param kind The fee category.
    error ExchangeNoPendingFees(address token, Kind kind);

    /// @dev Indicates a DAO-set window above its hard cap or below its floor.
    /// @param value The window given.
    /// @param min The floor.
    /// @param max The hard cap.
    error ExchangeInvalidPeriod(uint256 value, uint256 min, uint256 max);

    /// @dev Indicates that there is no surplus (balance above `totalOwed`) to sweep.
    /// @param token The token.
    error ExchangeNoSurplus(address token);

    /// @dev Indicates setting a stock on a listing that is not an ITEM listing (the lens refuses a calendar quote
    /// of an ITEM listing with it too).
    /// @param listingId The listing.
    error ExchangeNotItemListing(uint256 listingId);

    /// @dev Indicates a call of one of the exchange's claim hooks by anyone but its claims contract.
    /// @param caller The caller.
    error ExchangeOnlyClaims(address caller);

    /// @dev Indicates a call of the membership hook by anyone but the exchange's citizen registry.
    /// @param caller The caller.
    error ExchangeOnlyRegistry(address caller);

    /// @dev Indicates that the DAO tried to allow a new token beyond the most the exchange supports (a rotation
    /// moves the old key's credit in every token ever allowed, so their number is bounded).
    /// @param max The most tokens ever allowed.
    error ExchangeTooManyTokens(uint256 max);

    /// @dev Indicates a call of `configure` by anyone but the exchange's settings contract.
    /// @param caller The caller.
    error ExchangeOnlySettings(address caller);

    /// @dev Indicates a buyer cancelling an ITEM purchase the seller already marked shipped (the remedy is then a
    /// non-delivery claim), or the seller marking it shipped twice.
    /// @param bookingId The booking.
    /// @param shippedAt When it was marked shipped.
    error ExchangeItemShipped(uint256 bookingId, uint256 shippedAt);

    /// @dev An amount does not fit the exchange's packed storage: a listing's price or deposit above 2^96 - 1.
    /// @param amount The amount.
    /// @param max The largest accepted.
    error ExchangeAmountTooLarge(uint256 amount, uint256 max);
}
