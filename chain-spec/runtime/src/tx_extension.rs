//! `ChargeTransactionPaymentWrapper`: subtensor names its fee extension this
//! way, and clients (subxt configs written for subtensor) select extensions by
//! metadata identifier. This wrapper gives pallet-transaction-payment's
//! extension that identifier and subtensor's wire type (a `Compact<u128>` tip).

use codec::{Decode, DecodeWithMemTracking, Encode};
use frame_support::dispatch::{DispatchInfo, PostDispatchInfo};
use pallet_transaction_payment::{ChargeTransactionPayment, Config, OnChargeTransaction};
use scale_info::TypeInfo;
use sp_runtime::{
    traits::{
        DispatchInfoOf, DispatchOriginOf, Dispatchable, PostDispatchInfoOf, TransactionExtension,
        ValidateResult,
    },
    transaction_validity::{InvalidTransaction, TransactionSource, TransactionValidityError},
    DispatchResult, Weight,
};

/// The fee balance type of pallet-transaction-payment (its own alias is private).
type FeeBalanceOf<T> = <<T as Config>::OnChargeTransaction as OnChargeTransaction<T>>::Balance;

/// Transaction-payment extension carrying a compact `u128` tip, as on subtensor.
#[derive(Encode, Decode, DecodeWithMemTracking, Clone, Eq, PartialEq, TypeInfo)]
#[scale_info(skip_type_params(T))]
pub struct ChargeTransactionPaymentWrapper<T> {
    #[codec(compact)]
    tip: u128,
    #[codec(skip)]
    _marker: core::marker::PhantomData<T>,
}

impl<T> ChargeTransactionPaymentWrapper<T> {
    /// An extension paying `tip` on top of the fee.
    pub fn from_tip(tip: u128) -> Self {
        Self {
            tip,
            _marker: core::marker::PhantomData,
        }
    }
}

impl<T> core::fmt::Debug for ChargeTransactionPaymentWrapper<T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "ChargeTransactionPaymentWrapper<{}>", self.tip)
    }
}

impl<T> ChargeTransactionPaymentWrapper<T>
where
    T: Config + Send + Sync,
    T::RuntimeCall: Dispatchable<Info = DispatchInfo, PostInfo = PostDispatchInfo>,
    FeeBalanceOf<T>: TryFrom<u128> + Send + Sync,
{
    /// The wrapped extension; a tip that does not fit the chain's balance type
    /// cannot be paid, so it makes the transaction invalid instead of wrapping.
    fn inner(&self) -> Result<ChargeTransactionPayment<T>, TransactionValidityError> {
        let tip = FeeBalanceOf::<T>::try_from(self.tip)
            .map_err(|_| TransactionValidityError::Invalid(InvalidTransaction::Payment))?;
        Ok(ChargeTransactionPayment::<T>::from(tip))
    }
}

impl<T> TransactionExtension<T::RuntimeCall> for ChargeTransactionPaymentWrapper<T>
where
    T: Config + Send + Sync,
    T::RuntimeCall: Dispatchable<Info = DispatchInfo, PostInfo = PostDispatchInfo>,
    FeeBalanceOf<T>: TryFrom<u128> + Send + Sync,
{
    const IDENTIFIER: &'static str = "ChargeTransactionPaymentWrapper";
    type Implicit = ();
    type Val = <ChargeTransactionPayment<T> as TransactionExtension<T::RuntimeCall>>::Val;
    type Pre = <ChargeTransactionPayment<T> as TransactionExtension<T::RuntimeCall>>::Pre;

    fn weight(&self, call: &T::RuntimeCall) -> Weight {
        // The weight does not depend on the tip, so a zero-tip inner value is exact.
        ChargeTransactionPayment::<T>::from(Default::default()).weight(call)
    }

    fn validate(
        &self,
        origin: DispatchOriginOf<T::RuntimeCall>,
        call: &T::RuntimeCall,
        info: &DispatchInfoOf<T::RuntimeCall>,
        len: usize,
        self_implicit: Self::Implicit,
        inherited_implication: &impl sp_runtime::traits::Implication,
        source: TransactionSource,
    ) -> ValidateResult<Self::Val, T::RuntimeCall> {
        self.inner()?.validate(
            origin,
            call,
            info,
            len,
            self_implicit,
            inherited_implication,
            source,
        )
    }

    fn prepare(
        self,
        val: Self::Val,
        origin: &DispatchOriginOf<T::RuntimeCall>,
        call: &T::RuntimeCall,
        info: &DispatchInfoOf<T::RuntimeCall>,
        len: usize,
    ) -> Result<Self::Pre, TransactionValidityError> {
        self.inner()?.prepare(val, origin, call, info, len)
    }

    fn post_dispatch_details(
        pre: Self::Pre,
        info: &DispatchInfoOf<T::RuntimeCall>,
        post_info: &PostDispatchInfoOf<T::RuntimeCall>,
        len: usize,
        result: &DispatchResult,
    ) -> Result<Weight, TransactionValidityError> {
        <ChargeTransactionPayment<T> as TransactionExtension<T::RuntimeCall>>::post_dispatch_details(
            pre, info, post_info, len, result,
        )
    }
}
